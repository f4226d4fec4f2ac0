import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceError } from '@tessera/contract';
import { ctcCharacters } from './ctc-decode.js';
import { REC, REC_DICTIONARY } from './ocr-models.js';

/**
 * Loads the recogniser's character list from the model repository on first use and keeps it.
 * A failed read is not kept, so fixing the repository needs no restart.
 */
export function characterSource(repoDir: string): () => Promise<string[]> {
  const file = join(repoDir, REC.model, REC_DICTIONARY);
  let loading: Promise<string[]> | undefined;
  return () => {
    loading ??= readFile(file, 'utf8').then(ctcCharacters, (err: unknown) => {
      loading = undefined;
      throw new ServiceError(
        'internal',
        `cannot read the OCR character dictionary ${file}: ${(err as Error).message}`,
        { cause: err },
      );
    });
    return loading;
  };
}
