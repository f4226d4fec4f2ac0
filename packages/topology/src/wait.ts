import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Rejects early with this promise's reason or value (e.g. a process that exited). */
  abort?: Promise<never>;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, and resolves with it.
 * Throws `TimeoutError`-named errors mentioning `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let aborted: unknown;
  let abortedFlag = false;
  options.abort?.catch((reason: unknown) => {
    abortedFlag = true;
    aborted = reason;
  });
  for (;;) {
    if (abortedFlag) throw aborted;
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (abortedFlag) throw aborted;
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const error = new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
      error.name = 'TimeoutError';
      throw error;
    }
    await sleep(intervalMs);
  }
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A small HTTP GET with a timeout, used for health checks. */
export function httpGet(url: string, timeoutMs = 2000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when GET `url` answers `status` (200 by default). */
export function waitForHttp(url: string, options: WaitOptions & { status?: number } = {}): Promise<HttpResult> {
  const expected = options.status ?? 200;
  let last: HttpResult | undefined;
  return waitFor(
    `GET ${url} → ${expected}`,
    async () => {
      last = await httpGet(url);
      return last.status === expected ? last : undefined;
    },
    options,
  ).catch((error: unknown) => {
    if (last && error instanceof Error && error.name === 'TimeoutError') {
      error.message += `; last answer ${last.status}: ${last.body.slice(0, 300)}`;
    }
    throw error;
  });
}
