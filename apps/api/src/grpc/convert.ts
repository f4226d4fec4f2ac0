import { ServiceError, isDatatype, type BinarySection, type Datatype } from '@tessera/contract';
import {
  fromParameters,
  toParameters,
  type ModelInferRequest,
  type ModelInferResponse,
  type WireTensorMeta,
} from '@tessera/client/grpc';
import type { InferenceOutcome } from '../inference/infer.js';

/** Where InferTensorContents keeps the values of each datatype (FP16 has no field: raw bytes only). */
const CONTENTS_FIELD: Partial<Record<Datatype, string>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
};

function bad(message: string): ServiceError {
  return new ServiceError('bad_request', message);
}

function typedContents(input: WireTensorMeta): unknown[] | undefined {
  const contents = input.contents ?? {};
  const given = Object.entries(contents).filter(([, v]) => Array.isArray(v) && v.length > 0);
  if (given.length === 0) return undefined;
  const field = isDatatype(input.datatype) ? CONTENTS_FIELD[input.datatype] : undefined;
  if (given.length > 1 || given[0]![0] !== field) {
    throw bad(
      `input '${input.name}' (${input.datatype}) must carry its values in ${field ?? 'raw_input_contents'}, not ${given.map(([k]) => k).join(', ')}`,
    );
  }
  return given[0]![1] as unknown[];
}

/**
 * A ModelInferRequest as the OIP body (and binary section) the REST path validates, so that
 * both transports share one validator: raw_input_contents become the binary section, each
 * input's bytes declared as its `binary_data_size`; typed contents become `data`. A request
 * uses one or the other for all of its inputs, as the protocol says.
 */
export function toOipBody(req: ModelInferRequest): { body: Record<string, unknown>; binary?: BinarySection } {
  const raw = req.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw bad(
      `raw_input_contents has ${raw.length} entries for ${req.inputs.length} inputs: give every input's bytes, in input order, or none`,
    );
  }
  const inputs = req.inputs.map((input, i) => {
    const { binary_data_size: _ignored, ...parameters } = fromParameters(input.parameters);
    const data = typedContents(input);
    if (raw.length > 0) {
      if (data) throw bad(`input '${input.name}' has both contents and raw_input_contents`);
      return {
        name: input.name,
        datatype: input.datatype,
        shape: input.shape,
        parameters: { ...parameters, binary_data_size: raw[i]!.byteLength },
      };
    }
    return { name: input.name, datatype: input.datatype, shape: input.shape, parameters, ...(data ? { data } : {}) };
  });
  const body: Record<string, unknown> = {
    ...(req.id ? { id: req.id } : {}),
    parameters: fromParameters(req.parameters),
    inputs,
    ...(req.outputs.length ? { outputs: req.outputs.map((o) => ({ name: o.name })) } : {}),
  };
  if (raw.length === 0) return { body };
  // One buffer of the caller's own: validation may align tensors in it instead of copying them.
  return { body, binary: { bytes: Buffer.concat(raw), reusable: 0 } };
}

/** The response: every output as raw bytes (as Triton answers), and the REST response's parameters. */
export function toInferResponse(
  model: { name: string; version: string },
  id: string,
  outcome: InferenceOutcome,
): ModelInferResponse {
  const { result, timing } = outcome;
  return {
    model_name: model.name,
    model_version: model.version,
    id,
    parameters: toParameters({
      ...timing,
      execution_provider: result.provider,
      cache: outcome.cache,
      ...(outcome.replayed ? { idempotent_replay: true } : {}),
    }),
    outputs: result.outputs.map((w) => ({ name: w.name, datatype: w.datatype, shape: w.shape })),
    raw_output_contents: result.outputs.map((w) => Buffer.from(w.b64, 'base64')),
  };
}
