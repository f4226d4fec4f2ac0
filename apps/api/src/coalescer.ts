import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_SCHEMA_VERSION, ServiceError, type InferJobData, type InferRequestPart, type ModelSpec } from '@tessera/contract';
import { INFER_JOB_OPTIONS, modelKey, type Admission, type RateCount, type RateState } from '@tessera/queue';
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

/** A large input's raw bytes, stored under its own key before the job that names it is added. */
export interface Blob {
  key: string;
  bytes: Uint8Array;
}

/** Blobs outlive their request's deadline by this much, for a job re-run after a worker died. */
const BLOB_GRACE_MS = 60_000;

interface Entry {
  part: InferRequestPart;
  blobs: Blob[];
  /** Response-cache key to answer from, if it holds a result. */
  lookup: string | undefined;
  rate: RateTicket | undefined;
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
    private readonly replyTo: string,
    private readonly windowMs = 0,
    /** Where large inputs' bytes go (see WireTensor.blob); required when a request carries blobs. */
    private readonly blobStore?: Redis,
  ) {}

  /** Call once a request this coalescer enqueued got its answer (or gave up waiting). */
  answered(model: ModelSpec): void {
    const key = modelKey(model.name, model.version);
    const n = (this.waiting.get(key) ?? 1) - 1;
    if (n > 0) this.waiting.set(key, n);
    else this.waiting.delete(key);
  }

  enqueue(model: ModelSpec, part: InferRequestPart, opts: { priority?: number | undefined; queueCap: number; timeoutMs: number; lookup?: string | undefined; rate?: RateTicket | undefined }, blobs: Blob[] = []): Promise<Enqueued | Cached> {
    const served = modelKey(model.name, model.version);
    const key = `${served}#${opts.priority ?? ''}`;
    let group = this.open.get(key);
    if (!group) {
      group = { key, model, priority: opts.priority, queueCap: opts.queueCap, entries: [], items: 0, sealed: false };
      this.open.set(key, group);
    }
    const g = group;
    const promise = new Promise<Enqueued | Cached>((resolve, reject) => g.entries.push({ part, blobs, lookup: opts.lookup, rate: opts.rate, resolve, reject }));
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
    const requests = entries.map((e) => ({ id: e.part.id, items: e.part.items, deadline: e.part.deadline, lookup: e.lookup, rate: e.rate?.rate }));
    let admitted: boolean[];
    let cached: (string | undefined)[];
    let rates: (RateState | undefined)[];
    let limited: boolean[];
    let used: number;
    // Large inputs are written in the same round trip as the admission (one pipeline).
    const blobs = entries.flatMap((e) => e.blobs.map((b) => ({ ...b, ttl: Math.max(1, Math.ceil(e.part.deadline - Date.now())) + BLOB_GRACE_MS })));
    const store = this.blobStore;
    if (blobs.length > 0 && !store) {
      const failure = new ServiceError('internal', 'this replica has no store for large inputs: this is a bug');
      for (const e of entries) e.reject(failure);
      return;
    }
    const writes = blobs.map((b) => store!.set(b.key, Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength), 'PX', b.ttl));
    try {
      const [admission] = await Promise.all([this.admission.admitMany(model.name, requests, g.queueCap), ...writes]);
      ({ admitted, cached, limited, rate: rates, inFlight: used } = admission);
    } catch (err) {
      const failure = new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });
      for (const e of entries) e.reject(failure);
      this.dropBlobs(entries);
      return;
    }
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
      e.reject(new ServiceError('overloaded', `model '${model.name}' is overloaded: ${used} items are queued or running (limit ${g.queueCap}); retry later`, { headers: { 'Retry-After': '1' } }));
    });
    if (accepted.length === 0) return;

    const parts = accepted.map((e) => e.part);
    const data: InferJobData = {
      v: JOB_SCHEMA_VERSION,
      model: model.name,
      version: model.version,
      replyTo: this.replyTo,
      enqueuedAt: performance.timeOrigin + performance.now(), // same clock as the worker's scheduler
      deadline: Math.max(...parts.map((p) => p.deadline)),
      ...(g.priority !== undefined ? { priority: g.priority } : {}),
      requests: parts,
    };
    const jobId = parts[0]!.id;
    const jobOptions = { ...INFER_JOB_OPTIONS, jobId, ...(g.priority !== undefined ? { priority: g.priority } : {}) };
    const budget = Math.max(1, Math.min(ENQUEUE_TIMEOUT_MS, Math.min(...parts.map((p) => p.deadline)) - Date.now()));
    try {
      // BullMQ's connection queues commands while Redis is away; bound the wait so the client
      // hears 503 instead of hanging until Redis comes back.
      await withTimeout(this.queueFor(model.name).add('infer', data, jobOptions), budget, 'Redis did not accept the job in time');
    } catch (err) {
      const failure = new ServiceError('not_ready', `could not enqueue the request: ${(err as Error).message}`, { cause: err });
      for (const e of accepted) e.reject(failure);
      for (const p of parts) void this.admission.release(model.name, p.id, p.items).catch(() => {});
      this.dropBlobs(accepted);
      return;
    }
    for (const e of accepted) e.resolve({ jobId, requests: parts.length });
  }

  /** Blobs of requests that will not be enqueued (they would otherwise wait for their TTL). */
  private dropBlobs(entries: readonly Entry[]): void {
    const keys = entries.flatMap((e) => e.blobs.map((b) => b.key));
    if (keys.length > 0) void this.blobStore?.del(...keys).catch(() => {});
  }
}
