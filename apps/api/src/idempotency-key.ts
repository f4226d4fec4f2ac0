import { createHash } from 'node:crypto';
import { ServiceError, type ModelSpec } from '@tessera/contract';
import type { InferenceCall } from './inference-call.js';

const VALID = /^[\x21-\x7e]{1,255}$/;

/**
 * The client's idempotency key: the `Idempotency-Key` header, else the OIP request `id`.
 * Reusing one for a different request within the TTL is an error (409), so clients must only
 * repeat an id for a retry.
 */
export function idempotencyKeyOf(req: Pick<InferenceCall, 'get'>, oipId?: unknown): string | undefined {
  const header = req.get('idempotency-key');
  if (header !== undefined) {
    if (!VALID.test(header)) throw new ServiceError('bad_request', 'the Idempotency-Key header is 1 to 255 visible ASCII characters');
    return header;
  }
  // Any OIP id will do: keys are hashed before they are stored.
  return typeof oipId === 'string' && oipId !== '' ? oipId : undefined;
}

/** Scoped to the API key, model and version, so that clients and models never collide. */
export function scopedIdempotencyKey(principalId: string, key: string, model: ModelSpec): string {
  return createHash('sha256').update(JSON.stringify([principalId, key, model.name, model.version])).digest('hex');
}
