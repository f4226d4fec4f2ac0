import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run with EVALSHA, so that the script's text crosses the wire once per Redis
 * server rather than with every call; on NOSCRIPT (a restarted or flushed Redis) it is sent
 * again with EVAL, which also caches it.
 */
export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(conn: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await conn.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return conn.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Always EVAL, never EVALSHA: the script runs before any command issued on `conn` after this
   * call, which the NOSCRIPT retry of `run` would not guarantee. For calls that later commands
   * on the same connection depend on (the job add that follows an admission).
   */
  runInOrder(conn: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return conn.eval(this.source, keys.length, ...keys, ...args);
  }
}
