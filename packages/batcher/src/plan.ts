import { DEFAULT_PADDING, paddingAllowed, type PaddingPolicy, type RowShape } from './padding.js';

/** What the planner needs to know about a waiting request (or request remainder). */
export interface Plannable {
  /** Items not yet handed to a batch. */
  readonly remaining: number;
  /** Requests with different keys cannot share a batch (see `compatKey`). */
  readonly key: string;
  /** Its rows' shape, for models that pad (see PaddingPolicy); absent: no padding to weigh. */
  readonly rows?: RowShape | undefined;
}

/** Take `count` items of `queue[index]`. */
export interface Take {
  index: number;
  count: number;
}

/**
 * Chooses the next batch from a FIFO queue, counting items, not requests.
 *
 * The oldest entry seeds the batch: all of it when it fits `cap`, otherwise a cap-sized slice
 * (its remainder stays first in line for the next batch). Later entries with the seed's key join
 * in arrival order when all of their remaining items fit the room left, so a request that fits
 * the cap is never spread over two batches, and when the padding the batch would then need stays
 * within `padding`. Entries that do not fit, or do not match, keep their place for a later batch.
 */
export function planBatch(queue: readonly Plannable[], cap: number, padding: PaddingPolicy = DEFAULT_PADDING): Take[] {
  const seed = queue[0];
  if (!seed || seed.remaining <= 0) return [];
  const limit = Math.max(1, Math.floor(cap));
  const first = Math.min(seed.remaining, limit);
  const takes: Take[] = [{ index: 0, count: first }];
  let room = limit - first;
  const shaped = seed.rows ? [{ shape: seed.rows, count: first }] : undefined;
  for (let i = 1; i < queue.length && room > 0; i++) {
    const entry = queue[i]!;
    if (entry.key !== seed.key || entry.remaining <= 0 || entry.remaining > room) continue;
    if (shaped && entry.rows) {
      const joined = [...shaped, { shape: entry.rows, count: entry.remaining }];
      if (!paddingAllowed(joined, padding)) continue;
      shaped.push(joined.at(-1)!);
    }
    takes.push({ index: i, count: entry.remaining });
    room -= entry.remaining;
  }
  return takes;
}

export function itemsIn(takes: readonly Take[]): number {
  return takes.reduce((n, t) => n + t.count, 0);
}
