import type { Redis } from 'ioredis';
import type { Reply } from '@tessera/contract';

interface Waiter {
  resolve(reply: Reply): void;
  timer: NodeJS.Timeout;
  reject(err: Error): void;
}

/** Replies taken per wake-up at most. */
const DRAIN_MAX = 256;

export class ReplyTimeoutError extends Error {
  override name = 'ReplyTimeoutError';
}

/**
 * One per API replica: workers push the reply for a job onto this replica's own list, so a
 * replica reads only its own answers (no fan-out of every completion to every replica, as a
 * QueueEvents stream would do). One blocking connection serves every in-flight request
 * (BLMPOP: Redis 7 or later).
 */
export class ReplyListener {
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly byPromise = new WeakMap<Promise<Reply>, Waiter>();
  private closed = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly conn: Redis,
    readonly key: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  get inFlight(): number {
    let n = 0;
    for (const list of this.waiters.values()) n += list.length;
    return n;
  }

  /**
   * Register before enqueueing, so that a fast reply cannot arrive unheard. Several waiters may
   * wait for one request (a retry attached to an earlier request); its reply settles all.
   */
  wait(requestId: string, timeoutMs: number): Promise<Reply> {
    let waiter!: Waiter;
    const promise = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.remove(requestId, waiter);
        reject(new ReplyTimeoutError(`no reply for request ${requestId} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = { resolve, reject, timer };
    });
    const list = this.waiters.get(requestId);
    if (list) list.push(waiter);
    else this.waiters.set(requestId, [waiter]);
    this.byPromise.set(promise, waiter);
    return promise;
  }

  /**
   * Stops waiting: for one `wait()` promise when given (which then rejects with `reason`), else
   * for every waiter of the request (which then never settle).
   */
  cancel(requestId: string, which?: Promise<Reply>, reason?: Error): void {
    const waiter = which && this.byPromise.get(which);
    const targets = which ? (waiter ? [waiter] : []) : [...(this.waiters.get(requestId) ?? [])];
    for (const w of targets) {
      clearTimeout(w.timer);
      this.remove(requestId, w);
      if (reason) w.reject(reason);
    }
  }

  private remove(requestId: string, waiter: Waiter): void {
    const list = this.waiters.get(requestId);
    if (!list) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length > 0) this.waiters.set(requestId, rest);
    else this.waiters.delete(requestId);
  }

  private dispatch(raw: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(raw) as Reply;
    } catch (err) {
      this.onError(err);
      return;
    }
    const list = this.waiters.get(reply.requestId);
    if (!list) return; // the request already timed out, or the list outlived a previous process
    this.waiters.delete(reply.requestId);
    for (const w of list) {
      clearTimeout(w.timer);
      w.resolve(reply);
    }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        // Blocks until a reply is there, then takes it and whatever else is there (Redis 7's
        // BLMPOP): one round trip per wake-up, however many replies arrived together.
        const popped = (await this.conn.blmpop(1, 1, this.key, 'RIGHT', 'COUNT', DRAIN_MAX)) as
          [string, string[]] | null;
        if (!popped) continue;
        for (const raw of popped[1]) this.dispatch(raw);
      } catch (err) {
        if (this.closed) break;
        this.onError(err);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Stops listening; waiters still pending are rejected. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.disconnect();
    // ioredis never settles a command queued while it was reconnecting when it is disconnected
    // then, so a BLMPOP issued while Redis was away would hold close() forever.
    const ended = this.loop?.catch(() => {
      // close() only waits for the loop to end; the loop reports its own errors through onError.
    });
    await Promise.race([ended, new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const [id, list] of this.waiters) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(new Error(`reply listener closed before request ${id} was answered`));
      }
    }
    this.waiters.clear();
  }
}
