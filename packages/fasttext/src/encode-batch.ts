import type { Tensor } from '@tessera/contract';
import type { FastTextTokenizer } from './tokenizer.js';

export interface IdEncoding {
  idOffset: number;
  padId: number;
}

/** One INT64 `ids` tensor [texts, longest row] for a batch of already tokenised rows. */
export function idsTensor(rows: readonly (readonly number[])[], { idOffset, padId }: IdEncoding, name = 'ids'): Tensor {
  const width = Math.max(1, ...rows.map((r) => r.length));
  const data = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  rows.forEach((row, i) => {
    for (let j = 0; j < row.length; j++) data[i * width + j] = BigInt(row[j]! + idOffset);
  });
  return { name, datatype: 'INT64', shape: [rows.length, width], data };
}

/** Tokenises texts and pads them into one `ids` tensor. */
export function encodeTexts(tokenizer: FastTextTokenizer, texts: readonly string[], encoding: IdEncoding): Tensor {
  return idsTensor(
    texts.map((t) => tokenizer.encode(t)),
    encoding,
  );
}
