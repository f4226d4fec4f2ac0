import { errorFor, parseRetryAfter, TransportError, type TesseraError } from './errors.js';
import { fromBytes, fromJson, isDatatype, tensorBytes, toJson, type Tensor } from './tensors.js';
import type { InferOptions, InferResult, Parameters } from './types.js';
import { resultOf } from './types.js';

export const BINARY_HEADER = 'Inference-Header-Content-Length';

/** The OIP request: a JSON body, or a JSON header followed by every tensor's raw bytes. */
export function encodeInferRequest(
  tensors: Tensor[],
  opts: InferOptions,
  binary: boolean,
): { body: Uint8Array | string; headerLength?: number } {
  const parameters: Parameters = { ...opts.parameters };
  if (opts.priority !== undefined) parameters.priority = opts.priority;
  if (binary) parameters.binary_data_output = true;
  const header = {
    ...(opts.id !== undefined ? { id: opts.id } : {}),
    ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
    inputs: tensors.map((t) =>
      binary
        ? { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: t.data.byteLength } }
        : { name: t.name, datatype: t.datatype, shape: t.shape, data: toJson(t) },
    ),
    ...(opts.outputs ? { outputs: opts.outputs.map((name) => ({ name })) } : {}),
  };
  if (!binary) return { body: JSON.stringify(header) };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const chunks = tensors.map((t) => tensorBytes(t.data));
  const body = new Uint8Array(head.byteLength + chunks.reduce((n, c) => n + c.byteLength, 0));
  body.set(head, 0);
  let offset = head.byteLength;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return { body, headerLength: head.byteLength };
}

interface WireOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Parameters;
  data?: unknown[];
}

interface WireResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: WireOutput[];
}

/** The OIP response, JSON or binary (a JSON header of `Inference-Header-Content-Length` bytes, then the outputs' bytes). */
export function decodeInferResponse(bytes: Uint8Array, headerLength: string | null): InferResult {
  const n = headerLength === null ? bytes.byteLength : Number(headerLength);
  if (!Number.isSafeInteger(n) || n > bytes.byteLength)
    throw new TransportError(`bad ${BINARY_HEADER} in the response: ${headerLength}`, {
      code: 'bad_response',
      status: 0,
    });
  const wire = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n))) as WireResponse;
  let offset = n;
  const outputs = wire.outputs.map((o): Tensor => {
    if (!isDatatype(o.datatype))
      throw new TransportError(`output '${o.name}' has an unknown datatype ${o.datatype}`, {
        code: 'bad_response',
        status: 0,
      });
    const size = o.parameters?.binary_data_size;
    if (typeof size === 'number') {
      const data = fromBytes(o.datatype, bytes.subarray(offset, offset + size));
      offset += size;
      return { name: o.name, datatype: o.datatype, shape: o.shape, data };
    }
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: fromJson(o.datatype, o.data ?? []) };
  });
  return resultOf({
    modelName: wire.model_name,
    modelVersion: wire.model_version ?? '',
    ...(wire.id !== undefined ? { id: wire.id } : {}),
    parameters: wire.parameters ?? {},
    outputs,
  });
}

/** The typed error of a non-2xx answer, from its `{"error","code"}` body. */
export async function errorOf(res: Response): Promise<TesseraError> {
  const text = await res.text().catch(() => '');
  let body: { error?: unknown; code?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: a proxy's page
  }
  const message =
    typeof body.error === 'string' ? body.error : `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  return errorFor(message, {
    code: typeof body.code === 'string' ? body.code : `http_${res.status}`,
    status: res.status,
    retryAfterS: parseRetryAfter(res.headers.get('retry-after')),
    requestId: res.headers.get('x-request-id') ?? undefined,
  });
}
