import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { idsTensor, tokenizerFromFile } from '@tessera/fasttext';
import { udhrTexts } from '@tessera/fasttext/calibration';
import * as ort from 'onnxruntime-node';

export interface LidAgreement {
  texts: number;
  /** Share of texts whose most probable language is the same in both versions. */
  top1: number;
  /** Largest |p_b - p_a| over every language of every text. */
  maxAbsDp: number;
}

/** Top-1 agreement of two lid176 versions over the UDHR texts (every text, or every `stride`-th). */
export async function compareLidVersions(
  modelDir: string,
  versions: [string, string],
  stride = 1,
): Promise<LidAgreement> {
  const { tokenizer, idOffset, padId } = tokenizerFromFile(
    JSON.parse(await readFile(join(modelDir, 'tokenizer.json'), 'utf8')),
  );
  const texts = udhrTexts()
    .filter((_, i) => i % stride === 0)
    .map((t) => tokenizer.encode(t.text));
  const sessions = await Promise.all(
    versions.map(async (v) =>
      ort.InferenceSession.create(await readFile(join(modelDir, v, 'model.onnx')), { intraOpNumThreads: 2 }),
    ),
  );
  let same = 0;
  let maxAbsDp = 0;
  try {
    for (let i = 0; i < texts.length; i += 64) {
      const t = idsTensor(texts.slice(i, i + 64), { idOffset, padId });
      const feed = { ids: new ort.Tensor('int64', t.data as BigInt64Array, t.shape) };
      const [a, b] = (await Promise.all(sessions.map((s) => s.run(feed)))).map(
        (o) => o.probs!.data as Float32Array,
      ) as [Float32Array, Float32Array];
      const labels = a.length / t.shape[0]!;
      for (let r = 0; r < t.shape[0]!; r++) {
        let [ia, ib] = [0, 0];
        for (let c = 0; c < labels; c++) {
          const k = r * labels + c;
          if (a[k]! > a[r * labels + ia]!) ia = c;
          if (b[k]! > b[r * labels + ib]!) ib = c;
          maxAbsDp = Math.max(maxAbsDp, Math.abs(a[k]! - b[k]!));
        }
        if (ia === ib) same++;
      }
    }
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
  return { texts: texts.length, top1: same / texts.length, maxAbsDp };
}
