import { after, before } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';

/** A real Redis for one test file: started before its tests on a free port, stopped after them. */
export interface TestRedis {
  /** A connection for the tests; valid from the first test on. */
  readonly conn: Redis;
  readonly url: string;
}

export function useTestRedis(): TestRedis {
  let handle: RedisHandle | undefined;
  let conn: Redis | undefined;
  before(async () => {
    handle = await startRedis({
      port: await freePort(),
      dir: path.join(mkdtempSync(path.join(tmpdir(), 'tessera-queue-')), 'redis'),
    });
    conn = new Redis(handle.url);
  });
  after(async () => {
    conn?.disconnect();
    await handle?.stop();
  });
  return {
    get conn() {
      if (!conn) throw new Error('the test Redis is not started yet');
      return conn;
    },
    get url() {
      if (!handle) throw new Error('the test Redis is not started yet');
      return handle.url;
    },
  };
}

/** An epoch-ms deadline a minute from now. */
export const inAMinute = (): number => Date.now() + 60_000;
