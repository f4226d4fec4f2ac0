import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JOB_SCHEMA_VERSION,
  ServiceError,
  type InferJobData,
  type InferRequestPart,
  type ModelSpec,
} from '@tessera/contract';
import {
  INFER_JOB_OPTIONS,
  modelKey,
  type Admission,
  type AdmissionOutcome,
  type QueueShare,
  type RateCount,
  type RateState,
} from '@tessera/queue';
import { withTimeout } from './with-timeout.js';

const ENQUEUE_TIMEOUT_MS = 5000;
/** At most this many requests share one job (and never more items than the model's batch). */
export const MAX_REQUESTS_PER_JOB = 64;

/** Where a request went: the BullMQ job that carries it, and how many requests share that job. */
export interface Enqueued {
  jobId: string;
  requests: number;
}

/** A request the response cache answered during admission: the stored result (JSON). Nothing was enqueued. */
export interface Cached {
  cached: string;
}

/**
 * A request's rate-limit count, taken by the admission. Told the count, and whether the script
 * found it over the limit (then nothing else was done), `counted` returns the 429 to answer with.
 */
export interface RateTicket {
  rate: RateCount;
  counted(state: RateState, limited: boolean): ServiceError | undefined;
}

/** The 429 of a request whose key already holds its whole share of the model's queue cap. */
function overShareError(model: string, share: QueueShare): ServiceError {
  return new ServiceError(
    'overloaded',
    `model '${model}': this API key already has ${share.maxItems} items queued or running, its share of the model's queue; retry when some are answered`,
    { headers: { 'Retry-After': '1' } },
  );
}

/** A large input's raw bytes, stored under its own key before the job that names it is added. */
export interface Blob {
  key: string;
  bytes: Uint8Array;
}

/** Blobs outlive their request's deadline by this much, for a job re-run after a worker died. */
const BLOB_GRACE_MS = 60_000;
/** A job key blocked by the admission is deleted at once; should that fail, it expires. */
const PLACEHOLDER_TTL_MS = 60_000;

interface Entry {
  part: InferRequestPart;
  blobs: Blob[];
  /** Response-cache key to answer from, if it holds a result. */
  lookup: string | undefined;
  rate: RateTicket | undefined;
  share: QueueShare | undefined;
  resolve(where: Enqueued | Cached): void;
  reject(err: Error): void;
}

interface Group {
  key: string;
  model: ModelSpec;
  priority: number | undefined;
  queueCap: number;
  entries: Entry[];
  items: number;
  /** Set once the group is handed to Redis; later requests start a new group. */
  sealed: boolean;
}

/**
 * Puts requests into BullMQ jobs, several per job when they arrive together.
 *
 * Per model, version and priority, at most one enqueue is in flight at a time (unless a group
 * is full). Requests that arrive while an enqueue is in flight gather and go as one job when it
 * returns. Otherwise a request goes:
 * - on the next turn of the event loop (with whatever else arrived in that turn) when this
 *   replica has no earlier request of the model still waiting for its answer: an idle service
 *   adds no wait;
 * - after at most `windowMs` when earlier requests are still being answered: the worker is busy
 *   with them, so the new one would wait in the queue anyway, and meanwhile more join its job.
 * Under load this turns N requests into one admission call, one job add, one job fetch and one
 * job finish, which is most of what a request costs Redis and the worker; the worker still runs
 * and answers every request on its own (own deadline, own reply, own failure). The admission
 * call also looks each request up in the response cache: a hit is answered from there and never
 * queued, so the cache costs no round trip of its own.
 */
export class JobCoalescer {
  private readonly open = new Map<string, Group>();
  private readonly inFlight = new Map<string, number>();

  /** Requests enqueued by this replica and not answered yet, per model@version. */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly queueFor: (model: string) => Queue,
    private readonly admission: Admission,
    /**
     * The connection of the queues and of the admission, where large inputs' bytes go too (see
     * WireTensor.blob). One connection, without auto-pipelining, so that commands reach Redis in
     * the order they are issued: the job add is sent before the admission's answer is back.
     */
    private readonly store: Redis,
    private readonly replyTo: string,
    private readonly windowMs = 0,
  ) {
    if (admission.conn !== store) throw new Error('the admission must use the connection the coalescer enqueues on');
  }

  /** Call once a request this coalescer enqueued got its answer (or gave up waiting). */
  answered(model: ModelSpec): void {
    const key = modelKey(model.name, model.version);
    const n = (this.waiting.get(key) ?? 1) - 1;
    if (n > 0) this.waiting.set(key, n);
    else this.waiting.delete(key);
  }

  enqueue(
    model: ModelSpec,
    part: InferRequestPart,
    opts: {
      priority?: number | undefined;
      queueCap: number;
      timeoutMs: number;
      lookup?: string | undefined;
      rate?: RateTicket | undefined;
      share?: QueueShare | undefined;
    },
    blobs: Blob[] = [],
  ): Promise<Enqueued | Cached> {
    const served = modelKey(model.name, model.version);
    const key = `${served}#${opts.priority ?? ''}`;
    let group = this.open.get(key);
    if (!group) {
      group = { key, model, priority: opts.priority, queueCap: opts.queueCap, entries: [], items: 0, sealed: false };
      this.open.set(key, group);
    }
    const g = group;
    const promise = new Promise<Enqueued | Cached>((resolve, reject) =>
      g.entries.push({ part, blobs, lookup: opts.lookup, rate: opts.rate, share: opts.share, resolve, reject }),
    );
    g.items += part.items;
    const batch = model.maxBatchSize > 0 ? model.maxBatchSize : MAX_REQUESTS_PER_JOB;
    if (g.entries.length >= MAX_REQUESTS_PER_JOB || g.items >= batch) {
      void this.flush(g);
    } else if (g.entries.length === 1 && !this.inFlight.get(key)) {
      const busy = (this.waiting.get(served) ?? 0) > 0;
      if (busy && this.windowMs > 0) setTimeout(() => void this.flush(g), this.windowMs);
      else setImmediate(() => void this.flush(g));
    }
    return promise.then((where) => {
      if (!('cached' in where)) this.waiting.set(served, (this.waiting.get(served) ?? 0) + 1);
      return where;
    });
  }

  private async flush(g: Group): Promise<void> {
    if (g.sealed) return;
    g.sealed = true;
    if (this.open.get(g.key) === g) this.open.delete(g.key);
    this.inFlight.set(g.key, (this.inFlight.get(g.key) ?? 0) + 1);
    try {
      await this.send(g);
    } finally {
      const left = (this.inFlight.get(g.key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(g.key, left);
      else this.inFlight.delete(g.key);
      const next = this.open.get(g.key);
      if (left === 0 && next && next.entries.length > 0) void this.flush(next);
    }
  }

  private async send(g: Group): Promise<void> {
    const { model, entries } = g;
    const requests = entries.map((e) => ({
      id: e.part.id,
      items: e.part.items,
      deadline: e.part.deadline,
      lookup: e.lookup,
      rate: e.rate?.rate,
      share: e.share,
    }));
    const store = this.store;
    const queue = this.queueFor(model.name);
    if (queue.opts.connection !== store) {
      const failure = new ServiceError(
        'internal',
        `the queue of model '${model.name}' does not use the connection requests are admitted on: this is a bug`,
      );
      for (const e of entries) e.reject(failure);
      return;
    }
    // One round trip, in this order on one connection: the large inputs, the admission, and the
    // job with every request of the group. When the admission does not admit them all, it blocks
    // the job's key and that add does nothing (see PlannedJob); the admitted ones go afterwards.
    const blobs = entries.flatMap((e) =>
      e.blobs.map((b) => ({ ...b, ttl: Math.max(1, Math.ceil(e.part.deadline - Date.now())) + BLOB_GRACE_MS })),
    );
    const writes = blobs.map((b) =>
      store.set(b.key, Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength), 'PX', b.ttl),
    );
    const planned = this.job(g, entries);
    const jobKey = queue.toKey(planned.jobId);
    const budget = Math.max(
      1,
      Math.min(ENQUEUE_TIMEOUT_MS, Math.min(...entries.map((e) => e.part.deadline)) - Date.now()),
    );
    const admitting = this.admission.admitMany(model.name, requests, g.queueCap, {
      key: jobKey,
      placeholderTtlMs: PLACEHOLDER_TTL_MS,
    });
    // BullMQ's connection queues commands while Redis is away; bound the wait so the client
    // hears 503 instead of hanging until Redis comes back.
    const adding = withTimeout(
      queue.add('infer', planned.data, planned.options),
      budget,
      'Redis did not accept the job in time',
    );
    adding.catch(() => {}); // observed below
    let outcome: AdmissionOutcome;
    try {
      [outcome] = await withTimeout(
        Promise.all([admitting, ...writes]),
        budget,
        'Redis did not answer the admission in time',
      );
    } catch (err) {
      const failure = new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });
      for (const e of entries) e.reject(failure);
      this.dropBlobs(entries);
      // Admitted or not, a job that got in anyway has nobody waiting for it.
      void adding.then(() => queue.remove(planned.jobId)).catch(() => {});
      return;
    }
    const { admitted, cached, limited, overShare, rate: rates, inFlight: used } = outcome;
    const accepted = entries.filter((_, i) => admitted[i]);
    this.dropBlobs(entries.filter((_, i) => !admitted[i]));
    entries.forEach((e, i) => {
      // Counted against its rate limit (headers set); over the limit, nothing else was done.
      const rate = rates[i];
      const refused = rate && e.rate?.counted(rate, limited[i]!);
      if (refused) return e.reject(refused);
      if (admitted[i]) return;
      const hit = cached[i];
      if (hit !== undefined) return e.resolve({ cached: hit });
      if (overShare[i]) return e.reject(overShareError(model.name, e.share!));
      e.reject(
        new ServiceError(
          'overloaded',
          `model '${model.name}' is overloaded: ${used} items are queued or running (limit ${g.queueCap}); retry later`,
          { headers: { 'Retry-After': '1' } },
        ),
      );
    });
    let job = planned;
    try {
      if (accepted.length === entries.length) {
        await adding;
      } else {
        // The planned add found the placeholder and did nothing. Once it is done (it may have
        // left later than the admission, behind a queue's first connection set-up), the
        // placeholder goes, so that the admitted requests' job may take the same id.
        await adding.catch(() => {});
        const cleared = outcome.jobBlocked ? store.del(jobKey) : Promise.resolve(0);
        if (accepted.length === 0) {
          await cleared.catch(() => {});
          return;
        }
        job = this.job(g, accepted);
        await Promise.all([
          cleared,
          withTimeout(queue.add('infer', job.data, job.options), budget, 'Redis did not accept the job in time'),
        ]);
      }
    } catch (err) {
      const failure = new ServiceError('not_ready', `could not enqueue the request: ${(err as Error).message}`, {
        cause: err,
      });
      for (const e of accepted) e.reject(failure);
      for (const e of accepted) void this.admission.release(model.name, e.part.id, e.part.items).catch(() => {});
      this.dropBlobs(accepted);
      return;
    }
    for (const e of accepted) e.resolve({ jobId: job.jobId, requests: accepted.length });
  }

  /** The BullMQ job carrying these requests: its id is the first request's. */
  private job(g: Group, entries: readonly Entry[]): { jobId: string; data: InferJobData; options: JobsOptions } {
    const parts = entries.map((e) => e.part);
    const data: InferJobData = {
      v: JOB_SCHEMA_VERSION,
      model: g.model.name,
      version: g.model.version,
      replyTo: this.replyTo,
      enqueuedAt: performance.timeOrigin + performance.now(), // same clock as the worker's scheduler
      deadline: Math.max(...parts.map((p) => p.deadline)),
      ...(g.priority !== undefined ? { priority: g.priority } : {}),
      requests: parts,
    };
    const jobId = parts[0]!.id;
    return {
      jobId,
      data,
      options: { ...INFER_JOB_OPTIONS, jobId, ...(g.priority !== undefined ? { priority: g.priority } : {}) },
    };
  }

  /** Blobs of requests that will not be enqueued (they would otherwise wait for their TTL). */
  private dropBlobs(entries: readonly Entry[]): void {
    const keys = entries.flatMap((e) => e.blobs.map((b) => b.key));
    if (keys.length > 0) void this.store.del(...keys).catch(() => {});
  }
}
