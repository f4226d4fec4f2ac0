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

/**
 * Statistics shared by every API replica and worker: each adds to one Redis hash per model
 * version with HINCRBY, so the sum across processes is exact and no process keeps state of its
 * own. API replicas count requests (success, fail, queue, compute, cache); workers count
 * executions and the batch sizes they ran. Fields are `<counter>` or `<counter>.count` /
 * `<counter>.ns`; batch sizes are `batch.<size>.count` / `batch.<size>.ns`.
 */
export class InferenceStatistics {
  private readonly keys: RedisKeys;

  constructor(
    private readonly conn: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async recordRequest(model: string, version: string, r: RequestRecord): Promise<void> {
    const key = this.keys.stats(model, version);
    const p = this.conn.pipeline();
    const add = (field: string, ms: number) => p.hincrby(key, `${field}.count`, 1).hincrby(key, `${field}.ns`, ns(ms));
    if (!r.ok) {
      add('fail', r.totalMs);
    } else {
      add('success', r.totalMs);
      if (r.cache === 'hit') {
        add('cache_hit', r.totalMs);
      } else {
        // Triton's inference_count leaves out cache hits: they ran nothing.
        p.hincrby(key, 'inference_count', r.items);
        add('queue', r.queueMs);
        add('compute_infer', r.computeMs);
        if (r.cache === 'miss') add('cache_miss', r.queueMs + r.computeMs);
      }
    }
    p.hset(key, 'last_inference', Date.now());
    await p.exec();
  }

  /** One execution of the model (a batch of `size` items), by the worker that ran it. */
  async recordExecution(model: string, version: string, size: number, computeMs: number): Promise<void> {
    const key = this.keys.stats(model, version);
    await this.conn
      .pipeline()
      .hincrby(key, 'execution_count', 1)
      .hincrby(key, `batch.${size}.count`, 1)
      .hincrby(key, `batch.${size}.ns`, ns(computeMs))
      .exec();
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
