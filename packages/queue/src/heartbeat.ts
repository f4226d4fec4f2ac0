import type { Redis } from 'ioredis';
import { modelKey } from '@tessera/contract';
import { RedisKeys } from './keys.js';

/** What a worker says about itself, refreshed every heartbeat. */
export interface WorkerInfo {
  id: string;
  /** `name@version` of each model it serves. */
  models: string[];
  /** Execution provider in use per `name@version`. */
  providers: Record<string, string>;
  /** Current batch cap per `name@version`. */
  caps: Record<string, number>;
  /** Instances (sessions that run at the same time) per `name@version`. */
  instances?: Record<string, number>;
  startedAt: number;
  at: number;
}

/** A worker is live while its last heartbeat is younger than this many intervals. */
const LIVENESS_INTERVALS = 3;

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly keys: RedisKeys;

  constructor(
    private readonly conn: Redis,
    prefix: string,
    private readonly intervalMs: number,
    private readonly info: () => Omit<WorkerInfo, 'at'>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async beat(): Promise<void> {
    const info = { ...this.info(), at: Date.now() };
    await this.conn
      .multi()
      .zadd(this.keys.workers, info.at, info.id)
      .set(this.keys.worker(info.id), JSON.stringify(info), 'PX', this.intervalMs * LIVENESS_INTERVALS)
      .exec();
  }

  start(): void {
    const tick = () => {
      this.beat()
        .catch(this.onError)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops beating and removes this worker from the registry at once. */
  async stop(id: string): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.conn.multi().zrem(this.keys.workers, id).del(this.keys.worker(id)).exec();
  }
}

/** API side: the live workers, read at most once per `cacheMs`. */
export class WorkerRegistry {
  private cached: { at: number; workers: WorkerInfo[] } | undefined;
  private inFlight: Promise<WorkerInfo[]> | undefined;
  private generation = 0;
  private readonly keys: RedisKeys;

  constructor(
    private readonly conn: Redis,
    prefix: string,
    private readonly intervalMs: number,
    private readonly cacheMs = 250,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** `maxAgeMs`: how old a cached answer may be (the registry's cache time by default; 0: read now). */
  async live(maxAgeMs = this.cacheMs): Promise<WorkerInfo[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < maxAgeMs) return this.cached.workers;
    if (maxAgeMs === 0) return this.read(now);
    this.inFlight ??= this.read(now).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Forgets the cached answer, so the next question reads Redis. Called when this replica's view
   * of the repository changes: a version workers started serving a moment ago must not be
   * refused on a cached answer from before.
   */
  invalidate(): void {
    this.cached = undefined;
    this.inFlight = undefined;
    this.generation++;
  }

  private async read(now: number): Promise<WorkerInfo[]> {
    const generation = this.generation;
    const since = now - this.intervalMs * LIVENESS_INTERVALS;
    const key = this.keys.workers;
    const ids = await this.conn.zrangebyscore(key, since, '+inf');
    // Drop long-dead entries so the set does not grow with every restart.
    void this.conn.zremrangebyscore(key, '-inf', since - 60_000).catch(() => {
      // Housekeeping only: the next read prunes again, and the answer does not depend on it.
    });
    const raws = ids.length ? await this.conn.mget(ids.map((id) => this.keys.worker(id))) : [];
    const workers = raws.flatMap((r) => (r ? [JSON.parse(r) as WorkerInfo] : []));
    // A read that started before an invalidate() must not put its older answer back.
    if (generation === this.generation && (!this.cached || this.cached.at <= now)) this.cached = { at: now, workers };
    return workers;
  }

  /**
   * Live workers serving `name@version`. A cached answer that names none is checked against
   * Redis before it is believed: a refusal is rare, and a version that has just been loaded
   * must not be refused for up to the cache time.
   */
  async serving(name: string, version: string): Promise<WorkerInfo[]> {
    const key = modelKey({ name, version });
    const of = (workers: WorkerInfo[]) => workers.filter((w) => w.models.includes(key));
    const cached = of(await this.live());
    return cached.length > 0 ? cached : of(await this.live(0));
  }
}
