import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `tsk_<id>_<secret>`: a public 12-hex-digit id that names the key (lookups,
 * logs, revocation) and 256 random bits of secret. Only the SHA-256 of the whole key is stored.
 * A fast hash is enough here, unlike for passwords: with 256 bits of entropy no dictionary or
 * brute-force attack on a leaked hash is feasible, and a slow KDF would only cost CPU on every
 * request. The stored hash is compared with timingSafeEqual.
 */
const FORMAT = /^tsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  id: string;
  key: string;
  hash: string;
}

export function generateKey(): NewKey {
  const id = randomBytes(6).toString('hex');
  const key = `tsk_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashKey(key) };
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The key's id, or undefined when the string cannot be a key. */
export function keyId(key: string): string | undefined {
  return FORMAT.exec(key)?.[1];
}

/** Constant-time comparison of a presented key with a stored hash. */
export function matchesHash(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
