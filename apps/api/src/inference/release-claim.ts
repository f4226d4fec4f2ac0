import type { IdempotencyStore } from '@tessera/queue';

// Sooner than a client retries after `Retry-After: 1`, so that its retry finds the claim released.
const RETRY_MS = 200;

/**
 * Releases an idempotency claim that produced no result, trying again every 200 ms while Redis
 * is away (a release lost with the connection would leave retries attached to a job that never
 * ran), for at most `forMs`: by then the claim has expired by itself. The release never touches
 * another job's claim or a stored result (IdempotencyStore.abandon).
 */
export function releaseClaim(store: IdempotencyStore, key: string, jobId: string, forMs: number): void {
  const until = Date.now() + forMs;
  const attempt = (): void => {
    store.abandon(key, jobId).catch(() => {
      if (Date.now() + RETRY_MS < until) setTimeout(attempt, RETRY_MS).unref();
    });
  };
  attempt();
}
