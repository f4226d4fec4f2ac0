/**
 * The response cache's byte budget, kept in the same Redis as the queues (whose policy is
 * noeviction: Redis itself must never drop a job or an API key, so the cache evicts its own).
 * Its keys are RedisKeys.cacheBudget: a sorted set of every entry's key by when it expires, a hash
 * of every entry's cost in bytes, and the sum of those costs. commands/includes/storeCached.lua
 * stores an entry within the budget (the worker's delivery script calls it).
 */

/** The response cache's byte budget when a job does not name one (jobs enqueued by an older API). */
export const DEFAULT_CACHE_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Bytes Redis spends per entry beyond key and value (dict entry, TTL, sorted-set and hash nodes):
 * MEMORY USAGE of entries, index and sizes measured 2,548 bytes per 2.2 KB entry where key +
 * value made 2,148 (docs/security.md). storeCached.lua counts the same 400 bytes; the queue's
 * tests check that an entry's recorded cost is value + 2 × key + this.
 */
export const CACHE_ENTRY_OVERHEAD_BYTES = 400;
