import { modelKey, type ModelSpec } from '@tessera/contract';
import type { InstancePlan } from './types.js';

/**
 * Below this share of one thread's time in recent runs (see `DeviceShare.fraction`), a model with
 * a latency objective is light: its runs may start beyond the thread budget (see `Lanes`).
 */
export const LIGHT_SHARE = 0.05;

/** Today's behaviour when nothing is configured: one session per model, one run at a time. */
export const SINGLE_LANE: InstancePlan = { count: 1, threads: 1 };

/** A model's share of one thread's time in its recent runs' compute (0 when it has not run lately). */
export type RecentShare = (model: ModelSpec, now: number) => number;

/**
 * Which instances are running, and how many CPU threads their runs take. An instance runs one
 * batch at a time; a run starts only while the threads in use plus its own stay within the
 * budget, so instances never oversubscribe the cores. A run whose own threads exceed the budget
 * may still start when nothing else runs (otherwise it never could).
 *
 * One exception, for a light model with a latency objective (an interactive model that used
 * less than `LIGHT_SHARE` of a thread recently): when the budget is full, one such run at a time
 * may start beyond it. A run cannot be preempted, so otherwise its request would wait for a whole
 * batch of a heavy model that holds every thread; the overdraft costs the other runs at most that
 * share of a thread. The alternative, keeping a thread free for the interactive model, idles that
 * thread almost always (one client leaves the model idle between requests), which halves a
 * two-instance heavy model's throughput.
 */
export class Lanes {
  private readonly busy = new Map<string, Set<number>>();
  /** Runs that started beyond the budget, by model key and instance. */
  private readonly overdrawn = new Set<string>();
  private threadsInUse = 0;
  private running = 0;

  constructor(
    private readonly plan: (model: ModelSpec) => InstancePlan,
    private readonly threadBudget: number,
    private readonly recentShare: RecentShare = () => 0,
  ) {}

  /** An idle instance of the model whose run may start now, if any (lowest first). */
  free(model: ModelSpec, now: number): number | undefined {
    const { count } = this.planOf(model);
    if (!this.fits(model) && !this.mayOverdraw(model, now)) return undefined;
    const busy = this.busy.get(modelKey(model));
    for (let i = 0; i < count; i++) if (!busy?.has(i)) return i;
    return undefined;
  }

  /** Whether a run of the model would stay within the budget now. */
  fits(model: ModelSpec): boolean {
    return this.running === 0 || this.threadsInUse + this.planOf(model).threads <= this.threadBudget;
  }

  private mayOverdraw(model: ModelSpec, now: number): boolean {
    return (
      this.overdrawn.size === 0 && model.latencyObjectiveMs !== undefined && this.recentShare(model, now) < LIGHT_SHARE
    );
  }

  acquire(model: ModelSpec, instance: number): void {
    const key = modelKey(model);
    let busy = this.busy.get(key);
    if (!busy) this.busy.set(key, (busy = new Set()));
    if (busy.has(instance)) throw new Error(`instance ${instance} of ${key} is already running: this is a bug`);
    if (!this.fits(model)) this.overdrawn.add(`${key}#${instance}`);
    busy.add(instance);
    this.threadsInUse += this.planOf(model).threads;
    this.running++;
  }

  release(model: ModelSpec, instance: number): void {
    const key = modelKey(model);
    if (!this.busy.get(key)?.delete(instance)) return;
    this.overdrawn.delete(`${key}#${instance}`);
    this.threadsInUse -= this.planOf(model).threads;
    this.running--;
  }

  /** Runs in progress, across all models. */
  get active(): number {
    return this.running;
  }

  planOf(model: ModelSpec): InstancePlan {
    const p = this.plan(model);
    return { count: Math.max(1, Math.floor(p.count)), threads: Math.max(0, p.threads) };
  }
}
