import type { Outcome } from '../load.js';

/** What one fault did to the clients of a load, as the chaos report shows it. */
export interface FaultSummary {
  scenario: string;
  /** Requests sent (each counted once, however often it was retried). */
  sent: number;
  /** Answered 200 with the right outputs, at once or after retries with the same Idempotency-Key. */
  answered: number;
  /** Answered 200 with outputs that are not its own. */
  wrong: number;
  /** Never answered 200 within the retry window. */
  lost: number;
  /** Every try's outcome: "200", "503 not_ready", "0 connection" (no HTTP answer). */
  statuses: Record<string, number>;
  /** Failed tries without a JSON {"error","code"} body. */
  undocumented: number;
  /** From the fault's start to its end (process back, SIGCONT, new primary named), ms. */
  faultMs: number;
  /** Answers per second over the baseline before the fault. */
  baselinePerSecond: number;
  /** From the fault's end until a whole second again brings ≥ 80 % of the baseline answers, ms; null if it never did. */
  recoveryMs: number | null;
}

/** The share of the baseline rate that counts as full throughput again (a 1 s window is noisy). */
export const FULL_THROUGHPUT = 0.8;
const WINDOW_MS = 1000;
const STEP_MS = 100;

/**
 * Summarises the outcomes of a load (Outcome.at on the load's clock) around one fault that
 * started at `faultStart` and ended at `faultEnd` (same clock). The baseline is the answer rate
 * of the `baselineMs` before the fault.
 */
export function summarize(
  scenario: string,
  outcomes: readonly Outcome[],
  fault: { start: number; end: number; baselineMs: number },
): FaultSummary {
  const statuses: Record<string, number> = {};
  let undocumented = 0;
  for (const o of outcomes) {
    for (const tried of [...o.earlier, `${o.status} ${o.code ?? ''}`.trim()]) {
      statuses[tried] = (statuses[tried] ?? 0) + 1;
      if (!tried.startsWith('200') && !/^\d+ [a-z_]+$/.test(tried)) undocumented += 1;
      else if (tried === '0 connection') undocumented += 1;
    }
  }
  const done = outcomes
    .filter((o) => o.status === 200 && o.correct)
    .map((o) => o.at + o.ms)
    .sort((a, b) => a - b);
  const countIn = (from: number, to: number) => done.filter((t) => t >= from && t < to).length;
  const baselinePerSecond = (countIn(fault.start - fault.baselineMs, fault.start) * 1000) / fault.baselineMs;
  const last = done.at(-1) ?? fault.end;
  let recoveryMs: number | null = null;
  for (let t = fault.end; t + WINDOW_MS <= last; t += STEP_MS) {
    if (countIn(t, t + WINDOW_MS) >= FULL_THROUGHPUT * baselinePerSecond * (WINDOW_MS / 1000)) {
      recoveryMs = t - fault.end;
      break;
    }
  }
  return {
    scenario,
    sent: outcomes.length,
    answered: done.length,
    wrong: outcomes.filter((o) => o.status === 200 && !o.correct).length,
    lost: outcomes.filter((o) => o.status !== 200).length,
    statuses,
    undocumented,
    faultMs: Math.round(fault.end - fault.start),
    baselinePerSecond: Math.round(baselinePerSecond * 10) / 10,
    recoveryMs: recoveryMs === null ? null : Math.round(recoveryMs),
  };
}
