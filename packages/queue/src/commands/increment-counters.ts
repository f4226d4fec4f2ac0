import { RedisScript } from '../script.js';

export interface IncrementInput {
  windowMs: number;
  /** Each counter's key and the hits to add to it. */
  counters: readonly { key: string; hits: number }[];
}

/** A counter after the increment: its total, and the milliseconds left in its window. */
export interface CounterState {
  total: number;
  ttlMs: number;
}

/** incrementCounters-n.lua: one state per counter, in order. */
export const incrementCounters = new RedisScript<IncrementInput, CounterState[]>('incrementCounters-n', {
  encode: ({ windowMs, counters }) => ({
    keys: counters.map((c) => c.key),
    args: [windowMs, ...counters.map((c) => c.hits)],
  }),
  decode(reply, { counters }) {
    if (!Array.isArray(reply) || reply.length !== 2 * counters.length)
      throw new Error(`unexpected reply from the rate limit script: ${JSON.stringify(reply)}`);
    return counters.map((_, i) => ({ total: Number(reply[2 * i]), ttlMs: Number(reply[2 * i + 1]) }));
  },
});
