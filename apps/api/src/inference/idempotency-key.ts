import { createHash } from 'node:crypto';
import { ServiceError, type ModelSpec } from '@tessera/contract';
import type { InferenceCall } from './call.js';

const VALID = /^[\x21-\x7e]{1,255}$/;

/**
 * The client's idempotency key: the `Idempotency-Key` header, else the OIP request parameter
 * `idempotency_key`. Reusing one for a different request within the TTL is an error (409).
 * The OIP request `id` is never a key: Triton only echoes it, and its example clients send the
 * same ids (`"1"`, `"2"`, …) on every run.
 */
export function idempotencyKeyOf(req: Pick<InferenceCall, 'get'>, parameter?: unknown): string | undefined {
  const header = req.get('idempotency-key');
  if (header !== undefined) {
    if (!VALID.test(header))
      throw new ServiceError('bad_request', 'the Idempotency-Key header is 1 to 255 visible ASCII characters');
    return header;
  }
  if (parameter === undefined) return undefined;
  if (typeof parameter !== 'string' || !VALID.test(parameter))
    throw new ServiceError('bad_request', 'parameters.idempotency_key is 1 to 255 visible ASCII characters');
  return parameter;
}

/** Scoped to the API key, model and version, so that clients and models never collide. */
export function scopedIdempotencyKey(principalId: string, key: string, model: ModelSpec): string {
  return createHash('sha256')
    .update(JSON.stringify([principalId, key, model.name, model.version]))
    .digest('hex');
}
