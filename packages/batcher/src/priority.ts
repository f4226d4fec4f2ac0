import type { PendingRequest } from './pending-request.js';

/** Lower numbers run first; a request without a priority ranks after every request with one. */
function rank(entry: PendingRequest): number {
  return entry.req.priority ?? Number.POSITIVE_INFINITY;
}

/**
 * Keeps a model's waiting requests ordered by priority, then arrival: the planner seeds each
 * batch from the front and fills it in this order, so higher-priority items go into the next
 * batch first. The new entry arrived last, so it goes behind every entry of equal priority.
 */
export function insertByPriority(entries: PendingRequest[], entry: PendingRequest): void {
  const r = rank(entry);
  let i = entries.length;
  while (i > 0 && rank(entries[i - 1]!) > r) i--;
  entries.splice(i, 0, entry);
}

/**
 * Requests whose deadline has passed and that still have items to run. Nobody waits for their
 * answer any more, so they are answered `timeout` instead of taking room in a batch.
 */
export function expiredEntries(entries: readonly PendingRequest[], now: number): PendingRequest[] {
  return entries.filter((e) => e.req.deadline !== undefined && e.req.deadline <= now && e.remaining > 0);
}
