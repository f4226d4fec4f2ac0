import type { Redis } from 'ioredis';
import { RedisKeys } from './keys.js';

/** One counter: how many times, and how many nanoseconds in all (Triton's StatisticDuration). */
export interface Duration {
  count: number;
  ns: number;
}

/** The counters of one model version, as Triton's statistics extension reports them. */
export interface ModelVersionStats {
  inference_count: number;
  execution_count: number;
  /** Epoch milliseconds of the last request answered (0: none). */
  last_inference: number;
  inference_stats: Record<
    'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss',
    Duration
  >;
  batch_stats: Array<{
    batch_size: number;
    compute_input: Duration;
    compute_infer: Duration;
    compute_output: Duration;
  }>;
}

/** How one request ended, as the API replica that answered it saw it. */
export type RequestRecord =
  | { ok: true; items: number; totalMs: number; queueMs: number; computeMs: number; cache: 'hit' | 'miss' | 'off' }
  | { ok: false; totalMs: number };

const ns = (ms: number) => Math.max(0, Math.round(ms * 1e6));

/** How long counts wait to be written together (see InferenceStatistics). */
export const STATISTICS_FLUSH_MS = 20;

interface PendingWrite {
  cancel: () => void;
  done: Promise<void>;
  settle: (error?: unknown) => void;
}

/**
 * Statistics shared by every API replica and worker: each adds to one Redis hash per model
 * version with HINCRBY, so the sum across processes is exact and no process keeps state of its
 * own beyond a moment. API replicas count requests (success, fail, queue, compute, cache);
 * workers count executions and the batch sizes they ran. Fields are `<counter>` or
 * `<counter>.count` / `<counter>.ns`; batch sizes are `batch.<size>.count` / `batch.<size>.ns`.
 *
 * Counts are summed in the process for `flushMs` and written in one pipeline: a dozen commands
 * and a socket write per request otherwise, the largest share of Redis' commands per inference.
 * A record's promise settles when its counts are written; `flush()` writes what waits now.
 *
 * With `leading`, a record made when nothing was written for `flushMs` goes at the end of the
 * turn of the event loop that made it, and later ones wait until `flushMs` after that write. On a
 * connection with auto-pipelining the counts go as plain commands, in the same socket write as
 * the rest of their turn's commands: the worker's counts of a batch go with the batch's replies
 * at a light load, and in one write per `flushMs` under load.
 */
export class InferenceStatistics {
  private readonly keys: RedisKeys;
  private counts = new Map<string, Map<string, number>>();
  private latest = new Map<string, number>();
  private pending: PendingWrite | undefined;
  private lastWriteAt = -Infinity;

  constructor(
    private readonly conn: Redis,
    prefix: string,
    private readonly flushMs = STATISTICS_FLUSH_MS,
    private readonly leading = false,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  recordRequest(model: string, version: string, r: RequestRecord): Promise<void> {
    const key = this.keys.stats(model, version);
    const add = (field: string, ms: number) => {
      this.add(key, `${field}.count`, 1);
      this.add(key, `${field}.ns`, ns(ms));
    };
    if (!r.ok) {
      add('fail', r.totalMs);
    } else {
      add('success', r.totalMs);
      if (r.cache === 'hit') {
        add('cache_hit', r.totalMs);
      } else {
        // Triton's inference_count leaves out cache hits: they ran nothing.
        this.add(key, 'inference_count', r.items);
        add('queue', r.queueMs);
        add('compute_infer', r.computeMs);
        if (r.cache === 'miss') add('cache_miss', r.queueMs + r.computeMs);
      }
    }
    this.latest.set(key, Date.now());
    return this.schedule();
  }

  /** One execution of the model (a batch of `size` items), by the worker that ran it. */
  recordExecution(model: string, version: string, size: number, computeMs: number): Promise<void> {
    const key = this.keys.stats(model, version);
    this.add(key, 'execution_count', 1);
    this.add(key, `batch.${size}.count`, 1);
    this.add(key, `batch.${size}.ns`, ns(computeMs));
    return this.schedule();
  }

  /** Writes the counts that wait now (at shutdown; a record's own promise waits for its write). */
  async flush(): Promise<void> {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    pending.cancel();
    this.lastWriteAt = Date.now();
    const { counts, latest } = this;
    this.counts = new Map();
    this.latest = new Map();
    try {
      await this.write(counts, latest);
      pending.settle();
    } catch (err) {
      pending.settle(err);
    }
    await pending.done;
  }

  private async write(counts: Map<string, Map<string, number>>, latest: Map<string, number>): Promise<void> {
    if (this.conn.options.enableAutoPipelining) {
      const sent: Promise<unknown>[] = [];
      for (const [key, fields] of counts) for (const [field, n] of fields) sent.push(this.conn.hincrby(key, field, n));
      for (const [key, at] of latest) sent.push(this.conn.hset(key, 'last_inference', at));
      await Promise.all(sent);
      return;
    }
    const p = this.conn.pipeline();
    for (const [key, fields] of counts) for (const [field, n] of fields) p.hincrby(key, field, n);
    for (const [key, at] of latest) p.hset(key, 'last_inference', at);
    const failed = (await p.exec())?.find(([err]) => err)?.[0];
    if (failed) throw failed;
  }

  private add(key: string, field: string, n: number): void {
    let fields = this.counts.get(key);
    if (!fields) this.counts.set(key, (fields = new Map()));
    fields.set(field, (fields.get(field) ?? 0) + n);
  }

  private schedule(): Promise<void> {
    if (!this.pending) {
      let settle!: PendingWrite['settle'];
      const done = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      // Observed by each record's caller; this one only keeps an unobserved failure quiet.
      done.catch(() => undefined);
      const waitMs = this.leading ? Math.max(0, this.lastWriteAt + this.flushMs - Date.now()) : this.flushMs;
      this.pending = { cancel: this.later(() => void this.flush().catch(() => undefined), waitMs), done, settle };
    }
    return this.pending.done;
  }

  /** Runs `fn` after `ms` (0: at the end of this turn); returns what cancels it. */
  private later(fn: () => void, ms: number): () => void {
    if (ms === 0) {
      const immediate = setImmediate(fn);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  }

  async read(model: string, version: string): Promise<ModelVersionStats> {
    return parseStats(await this.conn.hgetall(this.keys.stats(model, version)));
  }
}

const COUNTERS = [
  'success',
  'fail',
  'queue',
  'compute_input',
  'compute_infer',
  'compute_output',
  'cache_hit',
  'cache_miss',
] as const;

/** The hash's fields as Triton's JSON; absent fields are zeros. */
export function parseStats(h: Record<string, string>): ModelVersionStats {
  const n = (field: string) => Number(h[field] ?? 0);
  const duration = (name: string): Duration => ({ count: n(`${name}.count`), ns: n(`${name}.ns`) });
  const sizes = new Set<number>();
  for (const field of Object.keys(h)) {
    const m = /^batch\.(\d+)\.count$/.exec(field);
    if (m) sizes.add(Number(m[1]));
  }
  const none = { count: 0, ns: 0 };
  return {
    inference_count: n('inference_count'),
    execution_count: n('execution_count'),
    last_inference: n('last_inference'),
    inference_stats: Object.fromEntries(COUNTERS.map((c) => [c, duration(c)])) as ModelVersionStats['inference_stats'],
    batch_stats: [...sizes]
      .sort((a, b) => a - b)
      .map((size) => ({
        batch_size: size,
        compute_input: { ...none, count: n(`batch.${size}.count`) },
        compute_infer: duration(`batch.${size}`),
        compute_output: { ...none, count: n(`batch.${size}.count`) },
      })),
  };
}
