import type { Datatype } from './datatypes.js';

/** Open Inference Protocol (KServe v2) REST shapes, as in the spec's `inference_rest.md`. */
export type Parameters = Record<string, string | number | boolean>;

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: Datatype;
  parameters?: Parameters;
  data: unknown;
}

export interface RequestOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferenceRequest {
  id?: string;
  parameters?: Parameters;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

export interface ResponseOutput {
  name: string;
  shape: number[];
  /** BYTES only for classification results (strings "score:index:label"). */
  datatype: Datatype | 'BYTES';
  parameters?: Parameters;
  /** Absent when the output travels as binary data (parameters.binary_data_size). */
  data?: number[] | boolean[] | string[];
}

export interface InferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutput[];
}

export interface MetadataTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface ModelMetadataResponse {
  name: string;
  versions?: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
  parameters?: Parameters;
}

export interface ServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

/** Triton model-repository extension: one row of POST /v2/repository/index. */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state?: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  reason?: string;
}
