import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

/** Runs one model file of a prepared repository on onnxruntime's CPU provider. */
export async function runModel(
  repo: string,
  model: string,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(join(repo, model, '1', 'model.onnx'), {
    executionProviders: ['cpu'],
    logSeverityLevel: 4,
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

export const f32 = (values: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(values), dims);
export const i64 = (values: number[], dims: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
export const numbers = (t: ort.Tensor | undefined) => Array.from(t!.data as ArrayLike<number | bigint>, Number);
