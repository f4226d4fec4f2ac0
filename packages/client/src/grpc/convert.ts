import * as grpc from '@grpc/grpc-js';
import { errorFor, TransportError, type TesseraError } from '../errors.js';
import { fromBytes, isDatatype, fromJson, tensorBytes, type Tensor } from '../tensors.js';
import { resultOf, type InferOptions, type InferResult } from '../types.js';
import {
  ERROR_CODE_KEY,
  fromParameters,
  HTTP_OF_GRPC,
  HTTP_STATUS_KEY,
  RETRY_AFTER_KEY,
  toParameters,
  type ModelInferRequest,
  type ModelInferResponse,
} from './proto.js';

/** A ModelInferRequest with every input as raw bytes (as Triton's clients send them). */
export function toInferRequest(model: string, tensors: Tensor[], opts: InferOptions): ModelInferRequest {
  const params: Record<string, string | number | boolean> = { ...opts.parameters };
  if (opts.priority !== undefined) params.priority = opts.priority;
  return {
    model_name: model,
    model_version: opts.version ?? '',
    id: opts.id ?? '',
    parameters: toParameters(params),
    inputs: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    outputs: (opts.outputs ?? []).map((name) => ({ name })),
    raw_input_contents: tensors.map((t) => {
      const bytes = tensorBytes(t.data);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }),
  };
}

/** Typed arrays from raw_output_contents, or from typed contents when a server sent those. */
export function fromInferResponse(res: ModelInferResponse): InferResult {
  const outputs = res.outputs.map((o, i): Tensor => {
    if (!isDatatype(o.datatype))
      throw new TransportError(`output '${o.name}' has an unknown datatype ${o.datatype}`, {
        code: 'bad_response',
        status: 0,
      });
    const raw = res.raw_output_contents[i];
    if (raw) return { name: o.name, datatype: o.datatype, shape: o.shape, data: fromBytes(o.datatype, raw) };
    const values = Object.values(o.contents ?? {}).find((v) => Array.isArray(v) && v.length > 0) ?? [];
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: fromJson(o.datatype, values) };
  });
  return resultOf({
    modelName: res.model_name,
    modelVersion: res.model_version,
    ...(res.id ? { id: res.id } : {}),
    parameters: fromParameters(res.parameters),
    outputs,
  });
}

/** The typed error of a failed call: the service's code and status when it sent them, else from the gRPC status. */
export function errorOfStatus(err: grpc.ServiceError): TesseraError {
  const meta = err.metadata;
  const first = (key: string) => {
    const v = meta?.get(key)[0];
    return v === undefined ? undefined : String(v);
  };
  const httpStatus = Number(first(HTTP_STATUS_KEY) ?? HTTP_OF_GRPC[err.code] ?? 500);
  const retryAfter = first(RETRY_AFTER_KEY);
  return errorFor(err.details || err.message, {
    code: first(ERROR_CODE_KEY) ?? `grpc_${grpc.status[err.code]?.toLowerCase() ?? err.code}`,
    status: httpStatus,
    retryAfterS: retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined,
    cause: err,
  });
}
