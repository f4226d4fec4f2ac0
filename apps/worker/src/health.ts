import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface Check {
  ok: boolean;
  reason?: string;
}

export interface HealthOptions {
  /** Resolves when the inference thread answers (OrtRunner.ping). */
  ping: () => Promise<void>;
  /** Models this worker has loaded. */
  models: () => number;
  /** Whether Redis holds this worker's registration (a heartbeat went through); rejects when Redis does not answer. */
  registered: () => Promise<boolean>;
  /** The inference thread must have answered a ping within this long. */
  pingTimeoutMs: number;
  /** The longest event-loop stall that still counts as alive. */
  loopBlockMs: number;
  now?: () => number;
  /** Event-loop delay source; a fake in tests. */
  loopDelay?: Pick<IntervalHistogram, 'max' | 'reset' | 'enable' | 'disable'>;
}

/**
 * What the worker's probes mean. Liveness: the inference thread answers pings (a thread stuck in
 * session.run cannot) and the main event loop is not stalled; a failure asks for a restart.
 * Readiness: Redis answers, at least one model is loaded and the worker is registered; a failure
 * only takes it out of rotation.
 */
export class WorkerHealth {
  private readonly now: () => number;
  private readonly loop: NonNullable<HealthOptions['loopDelay']>;
  private lastPong: number;
  private recentLoopMax = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: HealthOptions) {
    this.now = opts.now ?? Date.now;
    this.loop = opts.loopDelay ?? monitorEventLoopDelay({ resolution: 20 });
    this.lastPong = this.now();
  }

  start(intervalMs = Math.max(100, Math.min(5000, this.opts.pingTimeoutMs / 4))): void {
    this.loop.enable();
    const ping = setInterval(() => void this.pingOnce(), intervalMs);
    // Two windows of loop delay: the current one and the one before, so a stall is seen for a while.
    const window = setInterval(() => this.rollWindow(), Math.max(1000, 2 * intervalMs));
    ping.unref();
    window.unref();
    this.timers = [ping, window];
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.loop.disable();
  }

  async pingOnce(): Promise<void> {
    try {
      await this.opts.ping();
      this.lastPong = this.now();
    } catch {
      // Not answered: lastPong stays, and liveness fails once it is old enough.
    }
  }

  rollWindow(): void {
    this.recentLoopMax = this.loop.max;
    this.loop.reset();
  }

  live(): Check {
    const silentMs = this.now() - this.lastPong;
    if (silentMs > this.opts.pingTimeoutMs)
      return { ok: false, reason: `the inference thread has not answered a ping for ${silentMs} ms` };
    const stallMs = Math.max(this.recentLoopMax, this.loop.max) / 1e6;
    if (stallMs > this.opts.loopBlockMs)
      return { ok: false, reason: `the event loop stalled for ${Math.round(stallMs)} ms` };
    return { ok: true };
  }

  async ready(timeoutMs = 1000): Promise<Check> {
    if (this.opts.models() === 0) return { ok: false, reason: 'no model is loaded' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const registered = await Promise.race([this.opts.registered(), timeout]);
      return registered
        ? { ok: true }
        : { ok: false, reason: 'not registered in Redis (no heartbeat went through yet)' };
    } catch (err) {
      return { ok: false, reason: `Redis is unreachable: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }
}
