import { randomUUID } from 'node:crypto';
import type { ApiConfig } from '@tessera/config';
import { ServiceError, type InferJobResult, type ModelSpec, type ValidatedRequest } from '@tessera/contract';
import type { IdempotencyStore, InferenceStatistics, RedisKeys, RequestRecord, WorkerRegistry } from '@tessera/queue';
import { tracing, type Logger } from '@tessera/telemetry';
import { elapsedMs } from '../http/middleware/request-id.js';
import { traceparentOf } from '../http/middleware/trace.js';
import type { ApiMetrics } from '../metrics.js';
import { admit } from './admit.js';
import { requestHash } from './cache/request-hash.js';
import { cacheTenant, type ResponseCache } from './cache/response-cache.js';
import { callSignal, type InferenceCall } from './call.js';
import type { JobCoalescer } from './coalescer.js';
import { attachOrRelease, claimIdempotencyKey, releaseClaim, type IdempotencyClaim } from './idempotency.js';
import { requireServed } from './served.js';
import { chargeOf } from './rate-charge.js';
import { afterDeadline, requestPolicy, type RequestPolicy } from './request-policy.js';
import { buildSubmission, queueShare, type Submission } from './submission.js';
import { timingOf, type RequestTiming } from './timing.js';
import type { Waiter } from './waiter.js';

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

export interface InferDeps {
  config: ApiConfig;
  logger: Logger;
  metrics: ApiMetrics;
  statistics: InferenceStatistics;
  cache: ResponseCache;
  idempotency: IdempotencyStore;
  workers: WorkerRegistry;
  coalescer: JobCoalescer;
  waiter: Waiter;
  /** Redis key names: large inputs' bytes are stored under `blob()`. */
  keys: RedisKeys;
}

const NOTHING_RAN = { queueMs: 0, computeMs: 0, batchSize: 0 };

/**
 * The API's only way to get inference done, for /infer, /predict, pipelines and gRPC alike. In
 * this order: the request's policy (deadline, priority); its idempotency key, matched before
 * anything else (a reused key with another body is refused, a retry is answered or attached);
 * a live worker for the model; the admission (rate limit, response cache, queue cap) and the
 * enqueue, one Redis round trip (admit.ts); the wait for the worker's reply (waiter.ts); the
 * per-request statistics. A cache hit never reaches the queue; a request over the cap is
 * refused before anything is enqueued.
 */
export class Infer {
  constructor(private readonly deps: InferDeps) {}

  async run(
    call: InferenceCall,
    model: ModelSpec,
    request: ValidatedRequest,
    opts: RunOptions = {},
  ): Promise<InferenceOutcome> {
    const policy = requestPolicy(call, model, this.deps.config);
    let outcome: InferenceOutcome;
    try {
      outcome = await this.steps(call, model, request, policy, opts);
    } catch (err) {
      this.record(model, { ok: false, totalMs: elapsedMs(call) });
      throw afterDeadline(err, policy);
    }
    const { timing } = outcome;
    this.record(model, {
      ok: true,
      items: request.items,
      totalMs: timing.total_ms,
      queueMs: timing.queue_ms,
      computeMs: timing.compute_ms,
      cache: outcome.cache,
    });
    return outcome;
  }

  private async steps(
    call: InferenceCall,
    model: ModelSpec,
    request: ValidatedRequest,
    policy: RequestPolicy,
    opts: RunOptions,
  ): Promise<InferenceOutcome> {
    const { cache, idempotency, waiter } = this.deps;
    const plan = this.cachePlan(call, model, request, opts);
    const cacheState = plan.lookup ? 'miss' : 'off';
    const requestId = randomUUID();
    const signal = callSignal(call);
    const finish = (result: InferJobResult, state: InferenceOutcome['cache'], replayed = false) => ({
      result,
      timing: timingOf(result, elapsedMs(call)),
      cache: state,
      replayed,
    });

    let claim: IdempotencyClaim | undefined;
    if (opts.idempotencyKey) {
      const found = await claimIdempotencyKey(
        idempotency,
        { principalId: call.principal?.id ?? 'anonymous', clientKey: opts.idempotencyKey, model },
        {
          requestId,
          fingerprint: plan.fingerprint,
          replyKey: waiter.replyKey,
          timeoutMs: policy.timeoutMs,
          ttlMs: this.deps.config.IDEMPOTENCY_TTL_S * 1000,
        },
      );
      if ('result' in found) return finish(found.result, cacheState, true);
      if ('attach' in found) {
        const { attach, claim: theirs } = found;
        const result = await attachOrRelease(waiter, idempotency, theirs, attach, model, policy.timeoutMs, signal);
        return finish(result, cacheState, true);
      }
      claim = found.owner;
    }

    try {
      await requireServed(this.deps.workers, model);
      const span = tracing().enabled
        ? tracing().start('admission/enqueue', {
            parent: traceparentOf(call),
            attributes: { 'tessera.model': model.name },
          })
        : undefined;
      const sub = this.submission(call, model, request, { requestId, policy, claim, plan, span, opts });
      const answer = await this.enqueueAndWait(call, sub, policy, signal, span);
      if (plan.lookup) cache.count(model, answer.cached ? 'hit' : 'miss');
      if (answer.cached) {
        const result = { ...answer.result, timing: NOTHING_RAN };
        // Retries that attached meanwhile wait for this request: the idempotency store answers them too.
        if (claim) await this.complete(claim, requestId, result, model);
        return finish(result, 'hit');
      }
      const outcome = finish(answer.result, cacheState);
      this.observe(model, outcome.timing);
      return outcome;
    } catch (err) {
      // Frees the key for a retry, unless the job is still queued for a client that went away.
      const stillQueued = err instanceof ServiceError && err.code === 'client_closed_request';
      if (claim && !stillQueued) releaseClaim(idempotency, claim, requestId);
      throw err;
    }
  }

  /**
   * The request's fingerprint (for the response cache and idempotency), where the worker stores
   * its result in the response cache, and whether the admission looks it up first.
   */
  private cachePlan(call: InferenceCall, model: ModelSpec, request: ValidatedRequest, opts: RunOptions) {
    const { config, cache } = this.deps;
    const cachePolicy = config.RESPONSE_CACHE && model.cache?.enabled ? model.cache : undefined;
    const bypass = /no-cache|no-store/i.test(call.get('cache-control') ?? '');
    const fingerprint = cachePolicy || opts.idempotencyKey ? requestHash(model, request) : '';
    const entry = cachePolicy ? cache.entry(model, fingerprint, cachePolicy, cacheTenant(call.principal)) : undefined;
    return { fingerprint, entry, lookup: entry !== undefined && !bypass ? entry.key : undefined };
  }

  /** The request as its job carries it and as the admission decides on it, built once. */
  private submission(
    call: InferenceCall,
    model: ModelSpec,
    request: ValidatedRequest,
    the: {
      requestId: string;
      policy: RequestPolicy;
      claim: IdempotencyClaim | undefined;
      plan: ReturnType<Infer['cachePlan']>;
      span: { traceparent?: string | undefined } | undefined;
      opts: RunOptions;
    },
  ): Submission {
    const { requestId, policy, claim, plan, span, opts } = the;
    const queueCap = model.maxQueueItems ?? 4096;
    const part = {
      requestId,
      correlationId: call.id,
      deadline: policy.deadline,
      ...(claim ? { idempotency: { key: claim.key, ttlMs: claim.ttlMs } } : {}),
      ...(plan.entry ? { cache: plan.entry } : {}),
      ...(span?.traceparent ? { traceparent: span.traceparent } : {}),
    };
    const admission = {
      // Looked up with the admission; a miss's result is stored by the worker.
      lookup: plan.lookup,
      // Counted against the key's rate limit in the same script (once per request, or per call).
      rate: chargeOf(call.rateCharge, opts.chargeEachCall),
      share: queueShare(call, queueCap, this.deps.config.KEY_QUEUE_SHARE_PERCENT),
    };
    const queue = { priority: policy.priority, queueCap, keys: this.deps.keys };
    return buildSubmission(model, request, part, admission, queue);
  }

  /** Admits and enqueues the submission, then waits for its answer: the worker's, or the response cache's. */
  private async enqueueAndWait(
    call: InferenceCall,
    sub: Submission,
    policy: RequestPolicy,
    signal: AbortSignal,
    span: ReturnType<ReturnType<typeof tracing>['start']> | undefined,
  ): Promise<{ result: InferJobResult; cached: boolean }> {
    const { coalescer, waiter, metrics, logger } = this.deps;
    const { model, part } = sub;
    const reply = waiter.expect(part.requestId, policy.timeoutMs);
    metrics.inFlight.inc();
    try {
      let admitted;
      try {
        admitted = await admit(coalescer, sub, call.rateCharge);
      } catch (err) {
        waiter.drop(part.requestId, reply);
        span?.end({ error: (err as Error).message });
        throw err;
      }
      span?.setAttributes({ 'tessera.cache_hit': 'cached' in admitted });
      span?.end();
      if ('cached' in admitted) {
        waiter.drop(part.requestId, reply);
        try {
          return { result: JSON.parse(admitted.cached) as InferJobResult, cached: true };
        } catch {
          logger.warn({ model: model.name, key: sub.admission.lookup }, 'unreadable response-cache entry; computing');
          // Counted already: neither looked up nor counted again.
          const again = { ...sub, admission: { ...sub.admission, lookup: undefined, rate: undefined } };
          return await this.enqueueAndWait(call, again, policy, signal, undefined);
        }
      }
      try {
        const idempotent = part.idempotency !== undefined;
        const result = await waiter.wait(model, part, reply, admitted.job, policy.totalMs, signal, idempotent);
        return { result, cached: false };
      } finally {
        coalescer.answered(model);
      }
    } finally {
      metrics.inFlight.dec();
    }
  }

  /** A claimed request answered by the response cache: its result is stored under the key, for its retries. */
  private async complete(claim: IdempotencyClaim, requestId: string, result: InferJobResult, model: ModelSpec) {
    const reply = { requestId, ok: true as const, result };
    const where = { model: model.name, replyTo: this.deps.waiter.replyKey };
    await this.deps.idempotency.complete(claim.key, claim.ttlMs, reply, where).catch((err: Error) => {
      this.deps.logger.debug({ err: err.message }, 'idempotent result of a cache hit not stored');
    });
  }

  private observe(model: ModelSpec, timing: RequestTiming): void {
    const labels = { model: model.name };
    this.deps.metrics.queueWait.observe(labels, timing.queue_ms / 1000);
    this.deps.metrics.compute.observe(labels, timing.compute_ms / 1000);
    this.deps.metrics.batchSize.observe(labels, timing.batch_size);
  }

  /** Counted in Redis before the answer is sent, without waiting for it: statistics never hold a request up. */
  private record(model: ModelSpec, r: RequestRecord): void {
    this.deps.statistics
      .recordRequest(model.name, model.version, r)
      .catch((err: Error) => this.deps.logger.debug({ err: err.message }, 'statistics not recorded'));
  }
}
