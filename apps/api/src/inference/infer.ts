import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { ServiceError, type InferJobResult, type ModelSpec, type ValidatedRequest } from '@tessera/contract';
import { ADMISSION_GRACE_MS, deliverReply, REPLY_TTL_MS, type QueueShare, type RequestRecord } from '@tessera/queue';
import type { ApiContext } from '../context.js';
import type { InferenceCall } from './call.js';
import type { InferAnswer } from './waiter.js';
import { requestHash } from './cache/request-hash.js';
import { cacheTenant } from './cache/response-cache.js';
import { scopedIdempotencyKey } from './idempotency-key.js';
import { requireServed } from './models.js';
import { rateTicket } from '../http/middleware/rate-limit.js';
import { releaseClaim } from './release-claim.js';
import { elapsedMs } from '../http/middleware/request-id.js';
import { traceparentOf } from '../http/middleware/trace.js';
import { afterDeadline, requestPolicy, type RequestPolicy } from './request-policy.js';
import { timingOf, type RequestTiming } from './timing.js';

export interface InferenceOutcome {
  result: InferJobResult;
  timing: RequestTiming;
  /** Whether the response cache answered: hit, miss, or off (disabled for the model or bypassed). */
  cache: 'hit' | 'miss' | 'off';
  /** An idempotent retry answered with the original request's result. */
  replayed: boolean;
}

export interface RunOptions {
  /** The client's idempotency key (single-inference routes only). */
  idempotencyKey?: string | undefined;
  /** Charge this call to the key's rate limit even when the request was charged already (pipelines). */
  chargeEachCall?: boolean;
}

const NOTHING_RAN = { queueMs: 0, computeMs: 0, batchSize: 0 };

/**
 * The most items one key may hold in a model's queue: `percent` of its cap (at least one
 * request's worth), so that one key filling the queue leaves room for every other key.
 * Without a key (AUTH=off), the client address owns the share.
 */
export function queueShare(req: InferenceCall, cap: number, percent: number): QueueShare | undefined {
  if (percent >= 100) return undefined;
  const owner = req.principal && req.principal.id !== 'anonymous' ? `key:${req.principal.id}` : `ip:${req.ip ?? ''}`;
  return { owner, maxItems: Math.max(1, Math.floor((cap * percent) / 100)) };
}

/** Aborts when the client goes away: for HTTP, when it closes the connection before the response was sent. */
function clientSignal(req: InferenceCall & Partial<Pick<Request, 'res'>>): AbortSignal {
  if (req.signal) return req.signal;
  const ac = new AbortController();
  req.res?.once('close', () => {
    if (!req.res!.writableFinished) ac.abort();
  });
  return ac.signal;
}

/**
 * Waits for the job a retry attached to. When no answer comes by the deadline, the claim is
 * released (unless a result came meanwhile): a claim whose job never ran (its enqueue failed
 * while Redis was away, and the release of the claim was lost with the connection) would
 * otherwise send every retry to wait for a job that does not exist, until the claim expires.
 */
async function attachOrRelease(
  ctx: ApiContext,
  key: string,
  jobId: string,
  model: ModelSpec,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<InferJobResult> {
  try {
    return await ctx.inferClient.attach(model, jobId, timeoutMs, signal);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'timeout')
      releaseClaim(ctx.idempotency, key, jobId, timeoutMs + ADMISSION_GRACE_MS);
    throw err;
  }
}

/**
 * Shared by /infer and /predict: idempotency, then the rate-limit count, the response cache,
 * admission under the model's queue cap and enqueue (in the InferClient, one script), wait, and the
 * per-request metrics. The order matters: a retry is matched before anything else (so a reused
 * key with another body is refused), a cache hit never reaches the queue, and a request over the
 * cap is refused before anything is enqueued.
 */
export async function runInference(
  ctx: ApiContext,
  req: InferenceCall,
  model: ModelSpec,
  request: ValidatedRequest,
  opts: RunOptions = {},
): Promise<InferenceOutcome> {
  const policy = requestPolicy(req, model, ctx.config);
  let outcome: InferenceOutcome;
  try {
    outcome = await runSteps(ctx, req, model, request, policy, opts);
  } catch (err) {
    const answer = afterDeadline(err, policy);
    record(ctx, model, { ok: false, totalMs: elapsedMs(req) });
    throw answer;
  }
  const { timing } = outcome;
  record(ctx, model, {
    ok: true,
    items: request.items,
    totalMs: timing.total_ms,
    queueMs: timing.queue_ms,
    computeMs: timing.compute_ms,
    cache: outcome.cache,
  });
  return outcome;
}

/** Counted in Redis before the answer is sent, without waiting for it: statistics never hold a request up. */
function record(ctx: ApiContext, model: ModelSpec, r: RequestRecord): void {
  ctx.statistics
    .recordRequest(model.name, model.version, r)
    .catch((err: Error) => ctx.logger.debug({ err: err.message }, 'statistics not recorded'));
}

async function runSteps(
  ctx: ApiContext,
  req: InferenceCall,
  model: ModelSpec,
  request: ValidatedRequest,
  policy: RequestPolicy,
  opts: RunOptions,
): Promise<InferenceOutcome> {
  const cachePolicy = ctx.config.RESPONSE_CACHE && model.cache?.enabled ? model.cache : undefined;
  const bypass = /no-cache|no-store/i.test(req.get('cache-control') ?? '');
  const fingerprint = cachePolicy || opts.idempotencyKey ? requestHash(model, request) : '';
  // Where the worker stores this request's result, and whether the admission looks it up first.
  const cacheEntry = cachePolicy
    ? ctx.cache.entry(model, fingerprint, cachePolicy, cacheTenant(req.principal))
    : undefined;
  const lookup = cacheEntry !== undefined && !bypass;
  const signal = clientSignal(req);
  const jobId = randomUUID();
  const finish = (result: InferJobResult, cache: InferenceOutcome['cache'], replayed = false): InferenceOutcome => ({
    result,
    timing: timingOf(result, elapsedMs(req)),
    cache,
    replayed,
  });

  let idempotency: { key: string; ttlMs: number } | undefined;
  if (opts.idempotencyKey) {
    idempotency = {
      key: scopedIdempotencyKey(req.principal?.id ?? 'anonymous', opts.idempotencyKey, model),
      ttlMs: ctx.config.IDEMPOTENCY_TTL_S * 1000,
    };
    const key = idempotency.key;
    const claim = await ctx.idempotency
      .claim(key, fingerprint, jobId, policy.timeoutMs + ADMISSION_GRACE_MS, ctx.inferClient.replyKey)
      .catch((err: Error) => {
        // A claim that timed out may still run when a frozen Redis resumes; it would hold the key
        // for a job never enqueued, and every retry would wait for that job. Its release, sent
        // behind it on the same connection, runs after it.
        releaseClaim(ctx.idempotency, key, jobId, policy.timeoutMs + ADMISSION_GRACE_MS);
        throw new ServiceError('not_ready', `Redis is unreachable: ${err.message}`, { cause: err });
      });
    const cacheState = lookup ? 'miss' : 'off';
    if (claim.kind === 'conflict') {
      throw new ServiceError(
        'conflict',
        `idempotency key '${opts.idempotencyKey}' was already used for a different request to model '${model.name}' version ${model.version}`,
      );
    }
    if (claim.kind === 'result') {
      if (claim.reply.ok) return finish(claim.reply.result, cacheState, true);
      throw new ServiceError(claim.reply.error.code, claim.reply.error.message);
    }
    if (claim.kind === 'attach') {
      return finish(await attachOrRelease(ctx, key, claim.jobId, model, policy.timeoutMs, signal), cacheState, true);
    }
  }

  try {
    await requireServed(ctx, model);
    ctx.metrics.inFlight.inc();
    let answer: InferAnswer;
    try {
      answer = await ctx.inferClient.infer(model, request, {
        requestId: req.id,
        traceparent: traceparentOf(req),
        timeoutMs: policy.timeoutMs,
        budgetMs: policy.totalMs,
        deadline: policy.deadline,
        jobId,
        queueCap: model.maxQueueItems ?? 4096,
        share: queueShare(req, model.maxQueueItems ?? 4096, ctx.config.KEY_QUEUE_SHARE_PERCENT),
        priority: policy.priority,
        signal,
        // An idempotent job stays queued when its client leaves: the retry will attach to it.
        withdrawOnAbort: !idempotency,
        ...(idempotency ? { idempotency } : {}),
        // Looked up with the admission; a miss's result is stored by the worker.
        ...(lookup ? { lookup: cacheEntry.key } : {}),
        ...(cacheEntry ? { cache: cacheEntry } : {}),
        // Counted against the key's rate limit in the same script (once per HTTP request, or per call).
        rate: rateTicket(req, opts.chargeEachCall),
      });
    } finally {
      ctx.metrics.inFlight.dec();
    }
    if (lookup) ctx.cache.count(model, answer.cached ? 'hit' : 'miss');
    if (answer.cached) {
      const result = { ...answer.result, timing: NOTHING_RAN };
      // Retries that attached meanwhile are waiting for this job id: answer them too.
      if (idempotency) {
        await deliverReply(
          ctx.redis,
          {
            prefix: ctx.config.QUEUE_PREFIX,
            model: model.name,
            replyTo: ctx.inferClient.replyKey,
            items: request.items,
            idempotency,
          },
          { jobId, ok: true, result },
          REPLY_TTL_MS,
        ).catch(() => {});
      }
      return finish(result, 'hit');
    }
    const outcome = finish(answer.result, lookup ? 'miss' : 'off');
    ctx.metrics.queueWait.observe({ model: model.name }, outcome.timing.queue_ms / 1000);
    ctx.metrics.compute.observe({ model: model.name }, outcome.timing.compute_ms / 1000);
    ctx.metrics.batchSize.observe({ model: model.name }, outcome.timing.batch_size);
    return outcome;
  } catch (err) {
    // Frees the key for a retry, unless the job is still queued for a client that went away.
    const stillQueued = err instanceof ServiceError && err.code === 'client_closed_request';
    if (idempotency && !stillQueued)
      releaseClaim(ctx.idempotency, idempotency.key, jobId, policy.timeoutMs + ADMISSION_GRACE_MS);
    throw err;
  }
}
