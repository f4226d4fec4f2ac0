import { ServiceError, type InferJobResult, type ModelSpec } from '@tessera/contract';
import { ADMISSION_GRACE_MS, type IdempotencyStore } from '@tessera/queue';
import { scopedIdempotencyKey } from './idempotency-key.js';
import type { Waiter } from './waiter.js';

// Sooner than a client retries after `Retry-After: 1`, so that its retry finds the claim released.
const RETRY_MS = 200;

/** An idempotent request's hold on its key: the key (scoped), how long a result is kept, and how long the claim blocks retries. */
export interface IdempotencyClaim {
  key: string;
  ttlMs: number;
  holdMs: number;
}

/**
 * Matches an idempotent request before anything else, so that a reused key with another body is
 * refused (409): the request either owns the key (it computes), or is answered with the stored
 * result, or waits for the request in flight that owns it (attached).
 */
export async function claimIdempotencyKey(
  store: IdempotencyStore,
  who: { principalId: string; clientKey: string; model: ModelSpec },
  request: { requestId: string; fingerprint: string; replyKey: string; timeoutMs: number; ttlMs: number },
): Promise<{ owner: IdempotencyClaim } | { result: InferJobResult } | { attach: string; claim: IdempotencyClaim }> {
  const { clientKey, model } = who;
  const claim: IdempotencyClaim = {
    key: scopedIdempotencyKey(who.principalId, clientKey, model),
    ttlMs: request.ttlMs,
    holdMs: request.timeoutMs + ADMISSION_GRACE_MS,
  };
  const found = await store
    .claim(claim.key, request.fingerprint, request.requestId, claim.holdMs, request.replyKey)
    .catch((err: Error) => {
      // A claim that timed out may still run when a frozen Redis resumes; it would hold the key
      // for a job never enqueued, and every retry would wait for that job. Its release, sent
      // behind it on the same connection, runs after it.
      releaseClaim(store, claim, request.requestId);
      throw new ServiceError('not_ready', `Redis is unreachable: ${err.message}`, { cause: err });
    });
  switch (found.kind) {
    case 'owner':
      return { owner: claim };
    case 'attach':
      return { attach: found.requestId, claim };
    case 'result':
      if (found.reply.ok) return { result: found.reply.result };
      throw new ServiceError(found.reply.error.code, found.reply.error.message);
    case 'conflict':
      throw new ServiceError(
        'conflict',
        `idempotency key '${clientKey}' was already used for a different request to model '${model.name}' version ${model.version}`,
      );
  }
}

/**
 * Waits for the request a retry attached to. When no answer comes by the deadline, the claim is
 * released (unless a result came meanwhile): a claim whose job never ran (its enqueue failed
 * while Redis was away, and the release of the claim was lost with the connection) would
 * otherwise send every retry to wait for a job that does not exist, until the claim expires.
 */
export async function attachOrRelease(
  waiter: Waiter,
  store: IdempotencyStore,
  claim: IdempotencyClaim,
  owner: string,
  model: ModelSpec,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<InferJobResult> {
  try {
    return await waiter.attach(model, owner, timeoutMs, signal);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'timeout') releaseClaim(store, claim, owner);
    throw err;
  }
}

/**
 * Releases an idempotency claim that produced no result, trying again every 200 ms while Redis
 * is away (a release lost with the connection would leave retries attached to a job that never
 * ran), for as long as the claim holds: by then it has expired by itself. The release never
 * touches another request's claim or a stored result (IdempotencyStore.abandon).
 */
export function releaseClaim(store: IdempotencyStore, claim: IdempotencyClaim, requestId: string): void {
  const until = Date.now() + claim.holdMs;
  const attempt = (): void => {
    store.abandon(claim.key, requestId).catch(() => {
      if (Date.now() + RETRY_MS < until) setTimeout(attempt, RETRY_MS).unref();
    });
  };
  attempt();
}
