import { ServiceError, type Infer } from '@tessera/contract';
import { ctcDecode, type Recognized } from './ctc-decode.js';
import { recTensor } from './line-tensors.js';
import { modelInt64Output, modelOutput } from './model-output.js';
import { REC } from './ocr-models.js';
import type { RgbImage } from './rgb-image.js';

/**
 * Reads each line image with the recogniser. One call per line, all at once: the worker
 * batches concurrent calls of equal width (lines are not padded; see recTensor).
 */
export function recognizeLines(
  lines: readonly RgbImage[],
  infer: Infer,
  characters: readonly string[],
): Promise<Recognized[]> {
  return Promise.all(
    lines.map(async (line) => {
      const answer = await infer({
        model: REC.model,
        inputs: [await recTensor(line, REC.input)],
        outputs: [REC.ids, REC.scores],
      });
      const ids = modelInt64Output(answer, REC.model, REC.ids, 2);
      const scores = modelOutput(answer, REC.model, REC.scores, 2);
      const steps = ids.shape[1]!;
      if (ids.shape[0] !== 1 || scores.shape[0] !== 1 || scores.shape[1] !== steps) {
        throw new ServiceError(
          'internal',
          `model '${REC.model}' returned ids ${JSON.stringify(ids.shape)} and scores ${JSON.stringify(scores.shape)} for one line`,
        );
      }
      try {
        return ctcDecode(ids.data, scores.data, steps, characters);
      } catch (err) {
        throw new ServiceError(
          'internal',
          `model '${REC.model}' does not match its dictionary: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }),
  );
}
