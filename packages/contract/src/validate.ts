import { BinaryCursor, type BinarySection } from './binary.js';
import { allocate, datatypeInfo, toHalfBits, viewBytes, type Datatype, type TensorData } from './datatypes.js';
import { ServiceError } from './errors.js';
import { InferenceRequestSchema } from './oip-schemas.js';
import { parseRequest } from './request-schema.js';
import { elementCount, type Tensor } from './tensor.js';
import type { ModelSpec, TensorSpec } from './model-spec.js';

export interface ValidatedRequest {
  tensors: Tensor[];
  /** Size of the shared batch dimension (1 for models without batching). */
  items: number;
  /** Requested output names, or undefined for all. */
  outputs: string[] | undefined;
  /** Outputs to return as binary data (the binary tensor data extension); none when absent. */
  binaryOutputs?: Set<string>;
}

function invalid(message: string): ServiceError {
  return new ServiceError('invalid_input', message);
}

const INT_RANGES: Partial<Record<Datatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

/**
 * Row-major flatten of nested arrays, stopping early once more than `limit` leaves were seen.
 * Iterative, and no deeper than `maxDepth` arrays (a tensor of rank r is nested r deep, or less
 * when flattened): a body of 20,000 nested arrays is a 400, not a stack overflow.
 */
function flatten(name: string, data: unknown, limit: number, maxDepth: number, out: unknown[]): void {
  if (!Array.isArray(data)) {
    out.push(data);
    return;
  }
  const stack: { array: unknown[]; next: number }[] = [{ array: data, next: 0 }];
  while (stack.length > 0 && out.length <= limit) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.array.length) {
      stack.pop();
      continue;
    }
    const x = top.array[top.next++];
    if (!Array.isArray(x)) {
      out.push(x);
    } else if (stack.length >= maxDepth) {
      throw invalid(`input '${name}' nests arrays more than ${maxDepth} deep; its shape has rank ${maxDepth - 1}`);
    } else {
      stack.push({ array: x, next: 0 });
    }
  }
}

function fill(name: string, datatype: Datatype, values: unknown[]): TensorData {
  const out = allocate(datatype, values.length);
  const where = (i: number) => `input '${name}' element ${i}`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    switch (datatype) {
      case 'BOOL':
        if (typeof v === 'boolean') out[i] = v ? 1 : 0;
        else if (v === 0 || v === 1) out[i] = v;
        else throw invalid(`${where(i)} must be a boolean, got ${JSON.stringify(v)}`);
        break;
      case 'FP16':
      case 'FP32':
      case 'FP64':
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw invalid(`${where(i)} must be a finite number, got ${JSON.stringify(v)}`);
        out[i] = datatype === 'FP16' ? toHalfBits(v) : v;
        break;
      case 'INT64':
      case 'UINT64': {
        let big: bigint;
        if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && /^-?\d+$/.test(v)) big = BigInt(v);
        else throw invalid(`${where(i)} must be an integer, got ${JSON.stringify(v)}`);
        const [lo, hi] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
        if (big < lo || big > hi) throw invalid(`${where(i)} is out of range for ${datatype}`);
        out[i] = big;
        break;
      }
      default: {
        const [lo, hi] = INT_RANGES[datatype]!;
        if (typeof v !== 'number' || !Number.isInteger(v))
          throw invalid(`${where(i)} must be an integer, got ${JSON.stringify(v)}`);
        if (v < lo || v > hi) throw invalid(`${where(i)} = ${v} is out of range for ${datatype} [${lo}, ${hi}]`);
        out[i] = v;
      }
    }
  }
  return out;
}

/**
 * Tensor data from raw little-endian bytes (the binary extension), checked as JSON values are:
 * floats must be finite and booleans 0 or 1. Bytes of a handed-over body (`owned`) that the
 * cursor could align are used in place; any others are copied, so the caller's buffer is left
 * as it is.
 */
function fromBytes(name: string, datatype: Datatype, count: number, bytes: Uint8Array, owned: boolean): TensorData {
  const want = count * datatypeInfo(datatype).size;
  if (bytes.byteLength !== want) {
    throw invalid(
      `input '${name}' has ${bytes.byteLength} bytes of binary data; ${count} ${datatype} elements need ${want}`,
    );
  }
  const data = viewBytes(datatype, owned ? bytes : new Uint8Array(bytes)); // viewBytes copies misaligned bytes
  if (datatype === 'FP32' || datatype === 'FP64') {
    const f = data as Float32Array | Float64Array;
    for (let i = 0; i < f.length; i++)
      if (!Number.isFinite(f[i]!)) throw invalid(`input '${name}' element ${i} must be a finite number, got ${f[i]}`);
  } else if (datatype === 'FP16') {
    const h = data as Uint16Array;
    for (let i = 0; i < h.length; i++)
      if ((h[i]! & 0x7c00) === 0x7c00) throw invalid(`input '${name}' element ${i} must be a finite number`);
  } else if (datatype === 'BOOL') {
    const b = data as Uint8Array;
    for (let i = 0; i < b.length; i++)
      if (b[i]! > 1) throw invalid(`input '${name}' element ${i} must be a boolean (0 or 1), got ${b[i]}`);
  }
  return data;
}

function checkShape(model: ModelSpec, spec: TensorSpec, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw invalid(`input '${spec.name}' shape must be an array of non-negative integers`);
  }
  const batched = model.maxBatchSize > 0;
  const want = batched ? [-1, ...spec.shape] : spec.shape;
  const shown = JSON.stringify(want);
  if (shape.length !== want.length) {
    throw invalid(`input '${spec.name}' has rank ${shape.length}, model expects rank ${want.length} ${shown}`);
  }
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const d = shape[i] as number;
    if (w >= 0 && d !== w) {
      throw invalid(`input '${spec.name}' dimension ${i} is ${d}, model expects ${w} (shape ${shown})`);
    }
    if (d === 0)
      throw invalid(`input '${spec.name}' dimension ${i} is 0: ${i === 0 && batched ? 'empty batch' : 'empty tensor'}`);
  }
  return shape as number[];
}

/**
 * Validates an Open Inference Protocol request body against a model and converts its tensors.
 * Everything the worker could reject for a reason visible here is rejected here, so that an
 * invalid tensor never reaches the queue.
 *
 * Binary tensor data given as a BinarySection (a body the caller hands over) is aligned in
 * place and the tensors are views of it; given as a Uint8Array, it is copied and left as it is.
 */
export function validateInferenceRequest(
  model: ModelSpec,
  body: unknown,
  binary?: Uint8Array | BinarySection,
): ValidatedRequest {
  const cursor = binary ? new BinaryCursor(binary) : undefined;
  // The envelope by its schema (tensor data is not walked there); the elements below.
  const req = parseRequest(InferenceRequestSchema, body);
  const specs = new Map(model.inputs.map((s) => [s.name, s]));
  const seen = new Map<string, Tensor>();
  let items: number | undefined;
  for (const input of req.inputs) {
    const spec = specs.get(input.name);
    if (!spec) {
      throw invalid(
        `unknown input '${input.name}'; model '${model.name}' takes ${model.inputs.map((s) => `'${s.name}'`).join(', ')}`,
      );
    }
    if (seen.has(spec.name)) throw invalid(`input '${spec.name}' is given twice`);
    if (input.datatype !== spec.datatype) {
      throw invalid(
        `input '${spec.name}' has datatype ${JSON.stringify(input.datatype)}, model expects ${spec.datatype}`,
      );
    }
    const shape = checkShape(model, spec, input.shape);
    const count = elementCount(shape);
    const binarySize = input.parameters?.binary_data_size;
    let data: TensorData;
    if (binarySize !== undefined) {
      if (!cursor)
        throw invalid(
          `input '${spec.name}' sets parameters.binary_data_size but the request has no binary data (send the Inference-Header-Content-Length header)`,
        );
      if (input.data !== undefined) throw invalid(`input '${spec.name}' has both 'data' and binary data`);
      data = fromBytes(
        spec.name,
        spec.datatype,
        count,
        cursor.take(spec.name, binarySize, datatypeInfo(spec.datatype).size),
        !(binary instanceof Uint8Array),
      );
    } else {
      if (input.data === undefined) throw invalid(`input '${spec.name}' has no 'data'`);
      const flat: unknown[] = [];
      flatten(spec.name, input.data, count, shape.length + 1, flat);
      if (flat.length !== count) {
        throw invalid(
          `input '${spec.name}' has ${flat.length > count ? 'more than ' + count : flat.length} elements, shape ${JSON.stringify(shape)} needs ${count}`,
        );
      }
      data = fill(spec.name, spec.datatype, flat);
    }
    const batch = model.maxBatchSize > 0 ? shape[0]! : 1;
    if (items !== undefined && batch !== items) {
      throw invalid(`inputs disagree on the batch dimension: ${items} and ${batch} (input '${spec.name}')`);
    }
    items = batch;
    seen.set(spec.name, { name: spec.name, datatype: spec.datatype, shape, data });
  }
  cursor?.finish();
  const missing = model.inputs.filter((s) => !seen.has(s.name)).map((s) => `'${s.name}'`);
  if (missing.length > 0) throw invalid(`missing input ${missing.join(', ')} for model '${model.name}'`);
  if (items! > model.maxItemsPerRequest) {
    throw invalid(
      `request carries ${items} items; model '${model.name}' accepts at most ${model.maxItemsPerRequest} per request`,
    );
  }

  let outputs: string[] | undefined;
  const binaryOutputs = new Set<string>();
  if (req.outputs !== undefined) {
    const known = new Set(model.outputs.map((o) => o.name));
    outputs = req.outputs.map(({ name, parameters }) => {
      if (!known.has(name)) {
        throw invalid(
          `unknown output '${name}'; model '${model.name}' returns ${[...known].map((n) => `'${n}'`).join(', ')}`,
        );
      }
      if (parameters?.binary_data === true) binaryOutputs.add(name);
      return name;
    });
  }
  if (req.parameters?.binary_data_output === true)
    for (const o of outputs ?? model.outputs.map((x) => x.name)) binaryOutputs.add(o);
  // Keep the model's input order so the worker can stack without looking names up.
  const tensors = model.inputs.map((s) => seen.get(s.name)!);
  return { tensors, items: items!, outputs, ...(binaryOutputs.size > 0 ? { binaryOutputs } : {}) };
}

/**
 * Checks tensors built by the API's own pre-processing against the model, with the same rules
 * as a client request, so that a pre-processing bug is caught in the API and never reaches the
 * worker. Returns the batch dimension.
 */
export function checkTensors(model: ModelSpec, tensors: readonly Tensor[]): number {
  if (tensors.length !== model.inputs.length) {
    throw new ServiceError(
      'internal',
      `model '${model.name}' takes ${model.inputs.length} inputs, pre-processing built ${tensors.length}: this is a bug`,
    );
  }
  let items: number | undefined;
  model.inputs.forEach((spec, i) => {
    const t = tensors[i]!;
    if (t.name !== spec.name || t.datatype !== spec.datatype) {
      throw new ServiceError(
        'internal',
        `pre-processing built ${t.name}:${t.datatype} where model '${model.name}' takes ${spec.name}:${spec.datatype}: this is a bug`,
      );
    }
    const shape = checkShape(model, spec, t.shape);
    if (t.data.length !== elementCount(shape))
      throw new ServiceError('internal', `tensor '${t.name}' data does not match its shape: this is a bug`);
    const batch = model.maxBatchSize > 0 ? shape[0]! : 1;
    if (items !== undefined && items !== batch)
      throw new ServiceError('internal', `tensors disagree on the batch dimension: this is a bug`);
    items = batch;
  });
  if (items! > model.maxItemsPerRequest) {
    throw new ServiceError(
      'invalid_input',
      `the request needs ${items} items in one call; model '${model.name}' accepts at most ${model.maxItemsPerRequest}`,
    );
  }
  return items!;
}
