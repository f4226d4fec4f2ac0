import { ServiceError, type InferAnswer, type Tensor } from '@tessera/contract';

function find(
  answer: InferAnswer,
  model: string,
  name: string,
  rank: number,
  datatype: 'FP32' | 'INT64',
  array: typeof Float32Array | typeof BigInt64Array,
): Tensor {
  const t = answer.outputs.find((o) => o.name === name);
  if (!t || t.datatype !== datatype || !(t.data instanceof array) || t.shape.length !== rank) {
    throw new ServiceError(
      'internal',
      `model '${model}' did not return output '${name}' as ${datatype} of rank ${rank}${t ? ` (got ${t.datatype} ${JSON.stringify(t.shape)})` : ''}`,
    );
  }
  return t;
}

/** The named FP32 output of an answer with the expected rank; a mismatch means a misconfigured model. */
export function modelOutput(
  answer: InferAnswer,
  model: string,
  name: string,
  rank: number,
): { data: Float32Array; shape: number[] } {
  const t = find(answer, model, name, rank, 'FP32', Float32Array);
  return { data: t.data as Float32Array, shape: t.shape };
}

/** The named INT64 output of an answer with the expected rank. */
export function modelInt64Output(
  answer: InferAnswer,
  model: string,
  name: string,
  rank: number,
): { data: BigInt64Array; shape: number[] } {
  const t = find(answer, model, name, rank, 'INT64', BigInt64Array);
  return { data: t.data as BigInt64Array, shape: t.shape };
}
