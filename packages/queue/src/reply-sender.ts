import type { Redis } from 'ioredis';
import { deliverReplies, type Delivered } from './delivery.js';

/** Replies per script at most: one script holds Redis for its whole run. */
const MAX_PER_SCRIPT = 128;

interface Waiting {
  delivered: Delivered;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Sends a worker's replies, those produced in the same turn of the event loop together: the
 * requests of a batch finish at once, and their replies then cost Redis one script (and this
 * process one command) instead of one each. A reply waits for nothing else: the script goes at
 * the end of the turn that produced it.
 */
export class ReplySender {
  private pending: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly conn: Redis,
    private readonly replyTtlMs: number,
  ) {}

  send(delivered: Delivered): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ delivered, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_PER_SCRIPT) {
      const batch = all.slice(i, i + MAX_PER_SCRIPT);
      deliverReplies(
        this.conn,
        batch.map((w) => w.delivered),
        this.replyTtlMs,
      ).then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      );
    }
  }
}
