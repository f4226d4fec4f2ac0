import {
  BLOB_MIN_BYTES,
  bytesOf,
  toWire,
  type InferRequestPart,
  type ModelSpec,
  type ValidatedRequest,
  type WireTensor,
} from '@tessera/contract';
import type { AdmissionRequest, QueueShare, RedisKeys } from '@tessera/queue';
import type { InferenceCall } from './call.js';

/** A large input's raw bytes, stored under its own key before the job that names it is added. */
export interface Blob {
  key: string;
  bytes: Uint8Array;
}

/**
 * One request on its way into a job, built once and passed down unchanged: what its job
 * carries to the worker (`part`), what the admission script decides on (`admission`), and the
 * bytes stored beside the job (`blobs`). Requests of the same model, version and priority may
 * share a job (see JobCoalescer).
 */
export interface Submission {
  model: ModelSpec;
  /** BullMQ priority: 1 runs first. */
  priority: number | undefined;
  /** The model's queue cap in items. */
  queueCap: number;
  part: InferRequestPart;
  admission: AdmissionRequest;
  blobs: Blob[];
}

/** What the caller decides of a part; the rest (inputs, items, outputs) comes from the validated request. */
type PartFields = Omit<InferRequestPart, 'inputs' | 'items' | 'outputs'>;
/** What the caller decides of an admission; the rest (id, items, deadline) is the part's. */
type AdmissionFields = Omit<AdmissionRequest, 'requestId' | 'items' | 'deadline'>;

/**
 * The submission of a validated request. Inputs of BLOB_MIN_BYTES or more travel apart, raw,
 * under their own keys (RedisKeys.blob, see WireTensor.blob).
 */
export function buildSubmission(
  model: ModelSpec,
  request: ValidatedRequest,
  fields: PartFields,
  admission: AdmissionFields,
  queue: { priority: number | undefined; queueCap: number; keys: RedisKeys },
): Submission {
  const blobs: Blob[] = [];
  const inputs = request.tensors.map((t, i): WireTensor => {
    const bytes = bytesOf(t.data);
    if (bytes.byteLength < BLOB_MIN_BYTES) return toWire(t);
    const key = queue.keys.blob(fields.requestId, i);
    blobs.push({ key, bytes });
    return { name: t.name, datatype: t.datatype, shape: [...t.shape], b64: '', blob: key };
  });
  const part: InferRequestPart = {
    ...fields,
    items: request.items,
    inputs,
    ...(request.outputs ? { outputs: request.outputs } : {}),
  };
  return {
    model,
    priority: queue.priority,
    queueCap: queue.queueCap,
    part,
    admission: { requestId: part.requestId, items: part.items, deadline: part.deadline, ...admission },
    blobs,
  };
}

/**
 * The most items one key may hold in a model's queue: `percent` of its cap (at least one
 * request's worth), so that one key filling the queue leaves room for every other key.
 * Without a key (AUTH=off), the client address owns the share.
 */
export function queueShare(call: InferenceCall, cap: number, percent: number): QueueShare | undefined {
  if (percent >= 100) return undefined;
  const owner =
    call.principal && call.principal.id !== 'anonymous' ? `key:${call.principal.id}` : `ip:${call.ip ?? ''}`;
  return { owner, maxItems: Math.max(1, Math.floor((cap * percent) / 100)) };
}
