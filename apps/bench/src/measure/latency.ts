import type { LatencySummary, LoadResult } from '../types.js';

/** Nearest-rank percentile of an ascending array (p in [0, 100]). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  const mean = arr.length ? arr.reduce((a, b) => a + b, 0) / arr.length : Number.NaN;
  return {
    p50: percentile(arr, 50),
    p90: percentile(arr, 90),
    p99: percentile(arr, 99),
    mean,
    max: arr.length ? arr[arr.length - 1]! : Number.NaN,
  };
}

/**
 * A measured step must have been answered: a step in which no request completed (clients that
 * sent and never got a reply) would otherwise read as 0 items/s with no error.
 */
export function requireAnswers(result: Pick<LoadResult, 'completed' | 'errors' | 'timeouts'>, step: string): void {
  if (result.completed > 0) return;
  throw new Error(
    `${step}: no request was answered (${result.errors} errors, ${result.timeouts} timeouts): the contender did not serve`,
  );
}
