import { DeadlineExceededError, isRetryable } from './errors.js';

export interface RetryOptions {
  /** Retries after the first try (3); 0 turns retrying off. */
  retries?: number;
  /** Wait before the first retry when the server sends no Retry-After (200 ms), doubled each time. */
  backoffMs?: number;
  /** Longest wait between tries (10 s): a longer Retry-After ends the retries. */
  maxDelayMs?: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries are spent. Only 429 and 503
 * are retried (the caller sends the same idempotency key each time, so a request that did run
 * is answered with its result, never run twice); the wait is the server's Retry-After when it
 * sent one, else an exponential backoff. A deadline (`deadlineAt`, epoch ms) is never overrun.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  opts: RetryOptions,
  signal?: AbortSignal,
  deadlineAt?: number,
): Promise<T> {
  const retries = opts.retries ?? 3;
  const maxDelayMs = opts.maxDelayMs ?? 10_000;
  let backoff = opts.backoffMs ?? 200;
  for (let tried = 0; ; tried++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryable(err) || tried >= retries) throw err;
      const waitMs = err.retryAfterS !== undefined ? err.retryAfterS * 1000 : backoff;
      backoff *= 2;
      if (waitMs > maxDelayMs) throw err;
      if (deadlineAt !== undefined && Date.now() + waitMs >= deadlineAt) {
        throw new DeadlineExceededError(`the deadline leaves no time to retry after: ${err.message}`, {
          code: 'timeout',
          status: 504,
          cause: err,
        });
      }
      await sleep(waitMs, signal);
    }
  }
}
