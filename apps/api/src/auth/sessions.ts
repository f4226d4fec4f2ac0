import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisKeys } from '@tessera/queue';

/** The dashboard's cookie: an opaque session id, never the key it was signed in with. */
export const SESSION_COOKIE = 'tessera_session';

const FORMAT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Dashboard sessions in Redis, shared by every replica: 256 random bits per id, stored under the
 * id's SHA-256 (a copy of Redis holds no live session id) with the id of the key that signed in
 * and a TTL. A session is only as good as its key: revoking the key ends it (see authenticate).
 */
export class SessionStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly ttlS: number,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async create(keyId: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.redis.set(this.keys.session(id), keyId, 'EX', this.ttlS);
    return id;
  }

  /** The key id of a live session; null for an unknown, expired or malformed id. */
  async keyIdOf(id: string): Promise<string | null> {
    return FORMAT.test(id) ? this.redis.get(this.keys.session(id)) : null;
  }

  async end(id: string): Promise<void> {
    if (FORMAT.test(id)) await this.redis.del(this.keys.session(id));
  }
}

/** A cookie's value from a Cookie header; undefined when absent or not decodable (`%E0%A4%A`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}
