import { createHash } from 'node:crypto';
import { bytesOf, type ModelSpec, type ValidatedRequest } from '@tessera/contract';

/**
 * Identifies an inference exactly: model name, version and file digest, then every tensor's
 * name, datatype, shape and raw bytes, then the requested outputs in order. A header with all
 * lengths comes first, so that no two different requests concatenate to the same byte stream.
 * Used as the response-cache key and as the fingerprint that an idempotent retry must match.
 */
export function requestHash(model: ModelSpec, request: Pick<ValidatedRequest, 'tensors' | 'outputs'>): string {
  const hash = createHash('sha256');
  const header = {
    model: model.name,
    version: model.version,
    digest: model.digest ?? '',
    tensors: request.tensors.map((t) => [t.name, t.datatype, t.shape, t.data.byteLength]),
    outputs: request.outputs ?? null,
  };
  hash.update(JSON.stringify(header));
  for (const t of request.tensors) hash.update(bytesOf(t.data));
  return hash.digest('hex');
}
