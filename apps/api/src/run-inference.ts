import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { ServiceError, type InferJobResult, type ModelSpec, type ValidatedRequest } from '@tessera/contract';
import { ADMISSION_GRACE_MS, deliverReply, REPLY_TTL_MS } from '@tessera/queue';
import type { ApiContext } from './context.js';
import type { InferAnswer } from './infer-client.js';
import { requestHash } from './cache/request-hash.js';
import { scopedIdempotencyKey } from './idempotency-key.js';
import { requireServed } from './models.js';
import { rateTicket } from './middleware/rate-limit.js';
import { elapsedMs } from './middleware/request-id.js';
import { requestSpan } from './middleware/trace.js';
import { requestPolicy } from './request-policy.js';
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
}

const NOTHING_RAN = { queueMs: 0, computeMs: 0, batchSize: 0 };

/** Aborts when the client closes the connection before the response was sent. */
function clientSignal(req: Request): AbortSignal {
  const ac = new AbortController();
  req.res?.once('close', () => {
    if (!req.res!.writableFinished) ac.abort();
  });
  return ac.signal;
}

/**
 * Shared by /infer and /predict: idempotency, then the rate-limit count, the response cache,
 * admission under the model's queue cap and enqueue (in the InferClient, one script), wait, and the
 * per-request metrics. The order matters: a retry is matched before anything else (so a reused
 * key with another body is refused), a cache hit never reaches the queue, and a request over the
 * cap is refused before anything is enqueued.
 */
export async function runInference(ctx: ApiContext, req: Request, model: ModelSpec, request: ValidatedRequest, opts: RunOptions = {}): Promise<InferenceOutcome> {
  const policy = requestPolicy(req, model, ctx.config);
  const cachePolicy = ctx.config.RESPONSE_CACHE && model.cache?.enabled ? model.cache : undefined;
  const bypass = /no-cache|no-store/i.test(req.get('cache-control') ?? '');
  const fingerprint = cachePolicy || opts.idempotencyKey ? requestHash(model, request) : '';
  // Where the worker stores this request's result, and whether the admission looks it up first.
  const cacheEntry = cachePolicy ? ctx.cache.entry(model, fingerprint, cachePolicy) : undefined;
  const lookup = cacheEntry !== undefined && !bypass;
  const signal = clientSignal(req);
  const jobId = randomUUID();
  const finish = (result: InferJobResult, cache: InferenceOutcome['cache'], replayed = false): InferenceOutcome => ({ result, timing: timingOf(result, elapsedMs(req)), cache, replayed });

  let idempotency: { key: string; ttlMs: number } | undefined;
  if (opts.idempotencyKey) {
    idempotency = { key: scopedIdempotencyKey(req.principal?.id ?? 'anonymous', opts.idempotencyKey, model), ttlMs: ctx.config.IDEMPOTENCY_TTL_S * 1000 };
    const claim = await ctx.idempotency.claim(idempotency.key, fingerprint, jobId, policy.timeoutMs + ADMISSION_GRACE_MS, ctx.inferClient.replyKey).catch((err: Error) => {
      throw new ServiceError('not_ready', `Redis is unreachable: ${err.message}`, { cause: err });
    });
    const cacheState = lookup ? 'miss' : 'off';
    if (claim.kind === 'conflict') {
      throw new ServiceError('conflict', `idempotency key '${opts.idempotencyKey}' was already used for a different request to model '${model.name}' version ${model.version}`);
    }
    if (claim.kind === 'result') {
      if (claim.reply.ok) return finish(claim.reply.result, cacheState, true);
      throw new ServiceError(claim.reply.error.code, claim.reply.error.message);
    }
    if (claim.kind === 'attach') {
      return finish(await ctx.inferClient.attach(model, claim.jobId, policy.timeoutMs, signal), cacheState, true);
    }
  }

  try {
    await requireServed(ctx, model);
    ctx.metrics.inFlight.inc();
    let answer: InferAnswer;
    try {
      answer = await ctx.inferClient.infer(model, request, {
        requestId: req.id,
        traceparent: req.res ? requestSpan(req.res)?.traceparent : undefined,
        timeoutMs: policy.timeoutMs,
        budgetMs: policy.totalMs,
        deadline: policy.deadline,
        jobId,
        queueCap: model.maxQueueItems ?? 4096,
        priority: policy.priority,
        signal,
        // An idempotent job stays queued when its client leaves: the retry will attach to it.
        withdrawOnAbort: !idempotency,
        ...(idempotency ? { idempotency } : {}),
        // Looked up with the admission; a miss's result is stored by the worker.
        ...(lookup ? { lookup: cacheEntry.key } : {}),
        ...(cacheEntry ? { cache: cacheEntry } : {}),
        // Counted against the key's rate limit in the same script (once per HTTP request).
        rate: rateTicket(req),
      });
    } finally {
      ctx.metrics.inFlight.dec();
    }
    if (lookup) ctx.cache.count(model, answer.cached ? 'hit' : 'miss');
    if (answer.cached) {
      const result = { ...answer.result, timing: NOTHING_RAN };
      // Retries that attached meanwhile are waiting for this job id: answer them too.
      if (idempotency) {
        await deliverReply(ctx.redis, { prefix: ctx.config.QUEUE_PREFIX, model: model.name, replyTo: ctx.inferClient.replyKey, items: request.items, idempotency }, { jobId, ok: true, result }, REPLY_TTL_MS).catch(() => {});
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
    if (idempotency && !stillQueued) void ctx.idempotency.abandon(idempotency.key, jobId).catch(() => {});
    throw err;
  }
}
