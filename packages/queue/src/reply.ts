import type { Redis } from 'ioredis';
import type { Reply } from '@tessera/contract';
import { REPLY_TTL_MS } from './names.js';

interface Waiter {
  resolve(reply: Reply): void;
  timer: NodeJS.Timeout;
  reject(err: Error): void;
}

export class ReplyTimeoutError extends Error {
  override name = 'ReplyTimeoutError';
}

/**
 * One per API replica: workers push the reply for a job onto this replica's own list, so a
 * replica reads only its own answers (no fan-out of every completion to every replica, as a
 * QueueEvents stream would do). One blocking connection serves every in-flight request.
 */
export class ReplyListener {
  private readonly waiters = new Map<string, Waiter>();
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
    return this.waiters.size;
  }

  /** Register before enqueueing, so that a fast reply cannot arrive unheard. */
  wait(jobId: string, timeoutMs: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobId);
        reject(new ReplyTimeoutError(`no reply for job ${jobId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(jobId, { resolve, reject, timer });
    });
  }

  cancel(jobId: string): void {
    const w = this.waiters.get(jobId);
    if (w) {
      clearTimeout(w.timer);
      this.waiters.delete(jobId);
    }
  }

  private dispatch(raw: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(raw) as Reply;
    } catch (err) {
      this.onError(err);
      return;
    }
    const w = this.waiters.get(reply.jobId);
    if (!w) return; // the request already timed out, or the list outlived a previous process
    clearTimeout(w.timer);
    this.waiters.delete(reply.jobId);
    w.resolve(reply);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        const first = await this.conn.brpop(this.key, 1);
        if (!first) continue;
        this.dispatch(first[1]);
        // Drain whatever else is already there in one round trip.
        const rest = await this.conn.rpop(this.key, 256);
        if (rest) for (const raw of rest) this.dispatch(raw);
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
    await this.loop?.catch(() => {});
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`reply listener closed before job ${id} answered`));
    }
    this.waiters.clear();
  }
}

/** Worker side: push one reply to the list of the replica that asked. */
export async function sendReply(conn: Redis, key: string, reply: Reply): Promise<void> {
  await conn.multi().lpush(key, JSON.stringify(reply)).pexpire(key, REPLY_TTL_MS).exec();
}
