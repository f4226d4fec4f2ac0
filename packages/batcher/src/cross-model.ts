import type { PendingRequest } from './pending-request.js';

/** What the choice between model queues looks at: their most urgent waiting request. */
export interface Urgency {
  /** Priority level of the queue's head (lower runs first; none ranks last). */
  priority: number;
  /** Earliest effective deadline among the requests at that level (Infinity: none). */
  deadline: number;
  /** Arrival order of the head, the last tie-break (oldest first). */
  seq: number;
}

/**
 * A request is due by its own deadline or by its model's latency objective counted from when it
 * was enqueued, whichever comes first: a small model with an objective of 50 ms is due long
 * before a request of a big model that only has the 30 s request timeout.
 */
export function effectiveDeadline(entry: PendingRequest): number {
  const { deadline, enqueuedAt, model } = entry.req;
  const objective = model.latencyObjectiveMs !== undefined ? enqueuedAt + model.latencyObjectiveMs : Infinity;
  return Math.min(deadline ?? Infinity, objective);
}

/** Entries are kept by priority, then arrival (see priority.ts): the head has the best level. */
export function urgencyOf(entries: readonly PendingRequest[]): Urgency {
  const head = entries[0];
  if (head === undefined) throw new Error('urgencyOf needs a non-empty queue: this is a bug');
  const priority = head.req.priority ?? Infinity;
  let deadline = Infinity;
  for (const e of entries) {
    if ((e.req.priority ?? Infinity) !== priority) break;
    deadline = Math.min(deadline, effectiveDeadline(e));
  }
  return { priority, deadline, seq: head.seq };
}

/**
 * Device time each model used recently, decaying exponentially (half-life `halfLifeMs`), so that
 * the share a model had in the last second or so is what counts, not its whole history.
 */
export class DeviceShare {
  private readonly used = new Map<string, { ms: number; at: number }>();

  constructor(private readonly halfLifeMs = 1000) {}

  record(key: string, ms: number, now: number): void {
    this.used.set(key, { ms: this.usage(key, now) + Math.max(0, ms), at: now });
  }

  usage(key: string, now: number): number {
    const u = this.used.get(key);
    if (!u) return 0;
    return u.ms * 0.5 ** (Math.max(0, now - u.at) / this.halfLifeMs);
  }

  /**
   * The share of one thread's time the model's runs took recently: a model that runs a fraction
   * f of the time settles at a usage of f × halfLife / ln 2, the integral of the decay.
   */
  fraction(key: string, now: number): number {
    return (this.usage(key, now) * Math.LN2) / this.halfLifeMs;
  }
}

export interface Contender<T> extends Urgency {
  key: string;
  queue: T;
}

/**
 * The order in which model queues get the next free instance:
 * 1. higher priority first (a level-1 request of any model before a level-5 one);
 * 2. then models owed device time: among the models waiting, one whose recent share of the
 *    device is more than `slack` below its fair share (1/n) goes first, so a flooded model
 *    keeps its fair share even when other models always have earlier deadlines;
 * 3. then earliest effective deadline first;
 * 4. then arrival order (with no deadlines and no objectives this is the plain oldest-first).
 */
export function crossModelOrder<T>(
  contenders: readonly Contender<T>[],
  share: DeviceShare,
  now: number,
  slack = 0.1,
): Contender<T>[] {
  const usage = new Map(contenders.map((c) => [c.key, share.usage(c.key, now)]));
  let total = 0;
  for (const u of usage.values()) total += u;
  const fair = 1 / contenders.length;
  const owed = (c: Contender<T>) => (total > 0 && usage.get(c.key)! / total < fair - slack ? 0 : 1);
  return [...contenders].sort(
    (a, b) => a.priority - b.priority || owed(a) - owed(b) || a.deadline - b.deadline || a.seq - b.seq,
  );
}
