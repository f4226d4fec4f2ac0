import { readSignature, type SigTensor } from '@tessera/onnx';
import * as ort from 'onnxruntime-node';
import type { Feeds } from './calibrate.js';

const describe = (t: SigTensor) =>
  `${t.name} ${t.datatype ?? t.elemType} [${t.shape.map((d, i) => t.dimParams[i] ?? d).join(', ')}]`;

/** Throws unless both models declare the same inputs and outputs (names, types, shapes, in order). */
export function assertSameSignature(original: Uint8Array, quantized: Uint8Array): void {
  const a = readSignature(original);
  const b = readSignature(quantized);
  for (const side of ['inputs', 'outputs'] as const) {
    const was = a[side].map(describe).join('; ');
    const now = b[side].map(describe).join('; ');
    if (was !== now) throw new Error(`the quantized model's ${side} differ: ${now} instead of ${was}`);
  }
}

export interface OutputDifference {
  output: string;
  /** Largest |quantized - original| over every element of every sample (float outputs only). */
  maxAbs: number;
  /** Fraction of elements equal (the measure for integer outputs such as class ids). */
  equal: number;
}

/** Runs both models on the samples (a session is created for each: the quantized one must load and run) and compares every output. */
export async function compareOutputs(
  original: Uint8Array,
  quantized: Uint8Array,
  samples: readonly Feeds[],
): Promise<OutputDifference[]> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 2 };
  const [a, b] = await Promise.all([
    ort.InferenceSession.create(original, options),
    ort.InferenceSession.create(quantized, options),
  ]);
  const diff = new Map<string, { maxAbs: number; equal: number; total: number }>();
  try {
    for (const feed of samples) {
      const [x, y] = [await a.run(feed), await b.run(feed)];
      for (const name of a.outputNames) {
        const p = x[name]!.data as ArrayLike<number | bigint>;
        const q = y[name]!.data as ArrayLike<number | bigint>;
        if (p.length !== q.length) throw new Error(`output '${name}' has ${q.length} elements instead of ${p.length}`);
        const d = diff.get(name) ?? { maxAbs: 0, equal: 0, total: 0 };
        for (let i = 0; i < p.length; i++) {
          if (p[i] === q[i]) d.equal++;
          if (typeof p[i] === 'number') d.maxAbs = Math.max(d.maxAbs, Math.abs((q[i] as number) - (p[i] as number)));
        }
        d.total += p.length;
        diff.set(name, d);
      }
    }
  } finally {
    await Promise.all([a.release(), b.release()]);
  }
  return [...diff].map(([output, d]) => ({ output, maxAbs: d.maxAbs, equal: d.total ? d.equal / d.total : 1 }));
}
