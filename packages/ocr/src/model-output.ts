import { ServiceError, type InferAnswer } from '@tessera/contract';

/** The named FP32 output of an answer with the expected rank; a mismatch means a misconfigured model. */
export function modelOutput(answer: InferAnswer, model: string, name: string, rank: number): { data: Float32Array; shape: number[] } {
  const t = answer.outputs.find((o) => o.name === name);
  if (!t || t.datatype !== 'FP32' || !(t.data instanceof Float32Array) || t.shape.length !== rank) {
    throw new ServiceError('internal', `model '${model}' did not return output '${name}' as FP32 of rank ${rank}${t ? ` (got ${t.datatype} ${JSON.stringify(t.shape)})` : ''}`);
  }
  return { data: t.data, shape: t.shape };
}
