import { modelKey, ServiceError, type ModelSpec } from '@tessera/contract';
import type { Admitted, JobEnqueuer } from './enqueue.js';
import type { Submission } from './submission.js';

/** At most this many requests share one job (and never more items than the model's batch). */
export const MAX_REQUESTS_PER_JOB = 64;

/** Runs a group's enqueue after `delayMs` (0: on the next turn of the event loop). */
export type Schedule = (send: () => void, delayMs: number) => void;

const nextTurnOrLater: Schedule = (send, delayMs) => {
  if (delayMs > 0) setTimeout(send, delayMs);
  else setImmediate(send);
};

interface Entry {
  sub: Submission;
  resolve(admitted: Admitted): void;
}

interface Group {
  key: string;
  entries: Entry[];
  items: number;
  /** Set once the group is handed to Redis; later requests start a new group. */
  sealed: boolean;
}

/**
 * Groups requests into BullMQ jobs, several per job when they arrive together; the enqueue
 * itself (admission and job add, one round trip per group) is JobEnqueuer's.
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
 * and answers every request on its own (own deadline, own reply, own failure).
 */
export class JobCoalescer {
  private readonly open = new Map<string, Group>();
  private readonly inFlight = new Map<string, number>();

  /** Requests enqueued by this replica and not answered yet, per model@version. */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly enqueuer: JobEnqueuer,
    private readonly windowMs = 0,
    private readonly schedule: Schedule = nextTurnOrLater,
  ) {}

  /** Call once a request this coalescer enqueued got its answer (or gave up waiting). */
  answered(model: ModelSpec): void {
    const key = modelKey(model);
    const n = (this.waiting.get(key) ?? 1) - 1;
    if (n > 0) this.waiting.set(key, n);
    else this.waiting.delete(key);
  }

  /** The request's admission and job, once its group has been enqueued (see Admitted). */
  submit(sub: Submission): Promise<Admitted> {
    const { model } = sub;
    const served = modelKey(model);
    const key = `${served}#${sub.priority ?? ''}`;
    let group = this.open.get(key);
    if (!group) {
      group = { key, entries: [], items: 0, sealed: false };
      this.open.set(key, group);
    }
    const g = group;
    const promise = new Promise<Admitted>((resolve) => g.entries.push({ sub, resolve }));
    g.items += sub.part.items;
    const batch = model.maxBatchSize > 0 ? model.maxBatchSize : MAX_REQUESTS_PER_JOB;
    if (g.entries.length >= MAX_REQUESTS_PER_JOB || g.items >= batch) {
      void this.flush(g);
    } else if (g.entries.length === 1 && !this.inFlight.get(key)) {
      const busy = (this.waiting.get(served) ?? 0) > 0;
      this.schedule(() => void this.flush(g), busy ? this.windowMs : 0);
    }
    return promise.then((admitted) => {
      if (admitted.kind === 'queued') this.waiting.set(served, (this.waiting.get(served) ?? 0) + 1);
      return admitted;
    });
  }

  private async flush(g: Group): Promise<void> {
    if (g.sealed) return;
    g.sealed = true;
    if (this.open.get(g.key) === g) this.open.delete(g.key);
    this.inFlight.set(g.key, (this.inFlight.get(g.key) ?? 0) + 1);
    try {
      const answers = await this.enqueuer.enqueue(g.entries.map((e) => e.sub)).catch((err: unknown) => {
        const error = new ServiceError('internal', `enqueue failed: ${(err as Error).message}: this is a bug`);
        return g.entries.map((): Admitted => ({ kind: 'failed', error }));
      });
      g.entries.forEach((e, i) => e.resolve(answers[i]!));
    } finally {
      const left = (this.inFlight.get(g.key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(g.key, left);
      else this.inFlight.delete(g.key);
      const next = this.open.get(g.key);
      if (left === 0 && next && next.entries.length > 0) void this.flush(next);
    }
  }
}
