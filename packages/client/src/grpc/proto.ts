import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const SERVICE = 'inference.GRPCInferenceService';
/** The .proto files: the Open Inference Protocol's, unchanged, and the calls Triton adds to it. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
export const PROTO_FILES = ['open_inference_grpc.proto', 'tessera_extensions.proto'];

/**
 * Field names as in the .proto (snake_case), 64-bit integers as JS numbers (shapes; tensors
 * travel as raw bytes), empty fields present, and which member of a oneof is set.
 */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let cached: grpc.ServiceDefinition | undefined;

/**
 * Every call of inference.GRPCInferenceService, the extensions included: their methods are moved
 * under the service's own path, which is where Triton's clients call them.
 */
export function inferenceService(): grpc.ServiceDefinition {
  if (cached) return cached;
  const definition = protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
  const main = definition[SERVICE] as grpc.ServiceDefinition;
  const extensions = definition[`${SERVICE}Extensions`] as grpc.ServiceDefinition;
  const moved = Object.fromEntries(
    Object.entries(extensions).map(([name, method]) => [name, { ...method, path: `/${SERVICE}/${name}` }]),
  );
  cached = { ...main, ...moved };
  return cached;
}

/** InferParameter as protobuf's oneof: exactly one of these is set. */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

export function toParameter(value: string | number | boolean): InferParameter {
  if (typeof value === 'boolean') return { bool_param: value };
  if (typeof value === 'string') return { string_param: value };
  return Number.isInteger(value) ? { int64_param: value } : { double_param: value };
}

export function fromParameter(p: InferParameter): string | number | boolean | undefined {
  return p.parameter_choice ? p[p.parameter_choice] : undefined;
}

export function toParameters(params: Record<string, string | number | boolean>): Record<string, InferParameter> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, toParameter(v)]));
}

export function fromParameters(
  params: Record<string, InferParameter> | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, p] of Object.entries(params ?? {})) {
    const v = fromParameter(p);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export interface WireTensorMeta {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, InferParameter>;
  contents?: Record<string, unknown[]> | null;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: WireTensorMeta[];
  outputs: { name: string; parameters?: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  outputs: WireTensorMeta[];
  raw_output_contents: Buffer[];
}

/** Metadata the server sets on an error: the service's error code, its HTTP status, and Retry-After in seconds. */
export const ERROR_CODE_KEY = 'tessera-code';
export const RETRY_AFTER_KEY = 'retry-after';
export const HTTP_STATUS_KEY = 'tessera-http-status';

/** HTTP status of a gRPC status, for errors without the service's own code (the proxy's, the library's). */
export const HTTP_OF_GRPC: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.FAILED_PRECONDITION]: 409,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNIMPLEMENTED]: 404,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNKNOWN]: 500,
};
