export { InferenceClient, type RestClientOptions, type PredictResponse, type TextPrediction } from './rest-client.js';
export * from './errors.js';
export {
  DATATYPES,
  elementCount,
  fromBytes,
  fromHalfBits,
  fromJson,
  isDatatype,
  tensorBytes,
  toHalfBits,
  toJson,
  toTensor,
  type Datatype,
  type Tensor,
  type TensorInput,
  type TypedArray,
} from './tensors.js';
export type { RetryOptions } from './retry.js';
export type {
  CallOptions,
  ClientOptions,
  InferenceApi,
  InferOptions,
  InferResult,
  ModelMetadata,
  Parameters,
  RepositoryModel,
  ServerMetadata,
  TensorMetadata,
} from './types.js';
