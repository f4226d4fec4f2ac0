/**
 * Time source for the scheduler. Injected so that batching decisions (delay windows, arrival
 * rates, queue times) can be tested deterministically.
 */
export interface Clock {
  /** Milliseconds on the same scale as `BatchRequest.enqueuedAt` (epoch ms for the system clock). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  // Epoch milliseconds with sub-millisecond resolution, so that queue times of a few hundred
  // microseconds do not round to 0 or 1.
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
