import { modelKey, type ModelSpec } from '@tessera/contract';
import type { InstancePlan } from './types.js';

/** A model that received a request this recently counts as active (see `Lanes.free`). */
export const ACTIVE_MS = 1000;

/** Today's behaviour when nothing is configured: one session per model, one run at a time. */
export const SINGLE_LANE: InstancePlan = { count: 1, threads: 1 };

/**
 * Which instances are running, and how many CPU threads their runs take. An instance runs one
 * batch at a time; a run starts only while the threads in use plus its own stay within the
 * budget, so instances never oversubscribe the cores. A run whose own threads exceed the budget
 * may still start when nothing else runs (otherwise it never could).
 *
 * A model's first running instance needs only the threads to be free. A further instance also
 * leaves free the threads of every other model that is active (a request in the last
 * `ACTIVE_MS`) and runs nothing: a run cannot be preempted, so a heavy model's second instance
 * that took the last thread would make a small model's next request wait for a whole heavy batch.
 * When the others go quiet, the heavy model gets every thread again.
 */
export class Lanes {
  private readonly busy = new Map<string, Set<number>>();
  private readonly arrivals = new Map<string, { model: ModelSpec; at: number }>();
  private threadsInUse = 0;
  private running = 0;

  constructor(
    private readonly plan: (model: ModelSpec) => InstancePlan,
    private readonly threadBudget: number,
  ) {}

  /** Notes a request of the model (it is active for `ACTIVE_MS`). */
  arrived(model: ModelSpec, now: number): void {
    this.arrivals.set(modelKey(model), { model, at: now });
  }

  /** An idle instance of the model whose run fits the budget now, if any (lowest first). */
  free(model: ModelSpec, now: number): number | undefined {
    const { count, threads } = this.planOf(model);
    const key = modelKey(model);
    const busy = this.busy.get(key);
    const reserved = busy !== undefined && busy.size > 0 ? this.reservedFor(key, now) : 0;
    if (this.running > 0 && this.threadsInUse + threads + reserved > this.threadBudget) return undefined;
    for (let i = 0; i < count; i++) if (!busy?.has(i)) return i;
    return undefined;
  }

  /** Threads kept for the other active models that run nothing now. */
  private reservedFor(key: string, now: number): number {
    let reserved = 0;
    for (const [other, { model, at }] of this.arrivals) {
      if (other === key || now - at > ACTIVE_MS || (this.busy.get(other)?.size ?? 0) > 0) continue;
      reserved += this.planOf(model).threads;
    }
    return reserved;
  }

  acquire(model: ModelSpec, instance: number): void {
    const key = modelKey(model);
    let busy = this.busy.get(key);
    if (!busy) this.busy.set(key, (busy = new Set()));
    if (busy.has(instance)) throw new Error(`instance ${instance} of ${key} is already running: this is a bug`);
    busy.add(instance);
    this.threadsInUse += this.planOf(model).threads;
    this.running++;
  }

  release(model: ModelSpec, instance: number): void {
    if (!this.busy.get(modelKey(model))?.delete(instance)) return;
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
