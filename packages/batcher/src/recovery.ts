import { ServiceError } from '@tessera/contract';
import { planBatch } from './plan.js';

/** The part of the cap controller recovery drives. */
export interface RecoveryCap {
  readonly value: number;
  /** A batch of `items` items succeeded. */
  onSuccess(items?: number): void;
  onOutOfMemory(items: number): void;
}

export interface RecoveryOptions<P, R> {
  /** One device run for exactly these parts; resolves one result per part, in order. */
  run(parts: readonly P[]): Promise<R[]>;
  /** Recreates the session after an out-of-memory failure. */
  reset(): Promise<void>;
  isOutOfMemory(err: unknown): boolean;
  classifyError(err: unknown): ServiceError;
  cap: RecoveryCap;
  items(part: P): number;
  /** Cuts a part into its first `count` items and the rest. */
  split(part: P, count: number): [P, P];
  /** Parts whose request already failed are not run again. */
  abandoned?(part: P): boolean;
  /** Called as soon as each part settles, before the whole batch is done. */
  onSettled?(outcome: PartOutcome<P, R>): void;
  /** Names the model in error messages. */
  label: string;
}

export type PartOutcome<P, R> =
  { part: P; ok: true; result: R } | { part: P; ok: false; error: ServiceError; cause: unknown };

/**
 * Runs one planned batch and recovers from failures without losing requests:
 *
 * - Out of memory: reset the session, shrink the cap, and run the same parts again planned
 *   under the new cap (parts larger than the cap are cut). A batch of a single item that still
 *   runs out of memory fails with `out_of_memory` instead of looping.
 * - Any other error: when the batch holds several parts, bisect and run each half, so only the
 *   part(s) that trigger the error fail (with `classifyError`) and their batch-mates succeed.
 *
 * Without failures this is exactly one `run`. Every part settles exactly once.
 */
export async function runWithRecovery<P, R>(
  parts: readonly P[],
  opts: RecoveryOptions<P, R>,
): Promise<PartOutcome<P, R>[]> {
  const outcomes: PartOutcome<P, R>[] = [];
  const settle = (outcome: PartOutcome<P, R>): void => {
    outcomes.push(outcome);
    opts.onSettled?.(outcome);
  };
  const fail = (chunk: readonly P[], error: ServiceError, cause: unknown): void => {
    for (const part of chunk) settle({ part, ok: false, error, cause });
  };
  const total = (chunk: readonly P[]): number => chunk.reduce((n, p) => n + opts.items(p), 0);

  const runParts = async (input: readonly P[]): Promise<void> => {
    let rest = [...input];
    while (rest.length > 0) {
      rest = rest.filter((p) => !opts.abandoned?.(p));
      if (rest.length === 0) return;
      // Re-plan under the current cap each time: it may have shrunk (or grown) meanwhile.
      const takes = planBatch(
        rest.map((p) => ({ remaining: opts.items(p), key: '' })),
        opts.cap.value,
      );
      const chunk: P[] = [];
      const taken = new Set<number>();
      for (const take of takes) {
        const part = rest[take.index]!;
        taken.add(take.index);
        if (take.count < opts.items(part)) {
          const [head, tail] = opts.split(part, take.count);
          chunk.push(head);
          rest[take.index] = tail;
          taken.delete(take.index);
        } else {
          chunk.push(part);
        }
      }
      rest = rest.filter((_, i) => !taken.has(i));
      await attempt(chunk);
    }
  };

  const attempt = async (chunk: readonly P[]): Promise<void> => {
    let results: R[];
    try {
      results = await opts.run(chunk);
      if (results.length !== chunk.length) {
        throw new ServiceError('internal', `batch run returned ${results.length} results for ${chunk.length} parts`);
      }
    } catch (err) {
      await recover(chunk, err);
      return;
    }
    opts.cap.onSuccess(total(chunk));
    chunk.forEach((part, i) => settle({ part, ok: true, result: results[i]! }));
  };

  const recover = async (chunk: readonly P[], err: unknown): Promise<void> => {
    if (isOom(opts, err)) {
      const items = total(chunk);
      try {
        await opts.reset();
      } catch (resetErr) {
        fail(chunk, classify(opts, resetErr), resetErr);
        return;
      }
      if (items <= 1) {
        fail(
          chunk,
          new ServiceError('out_of_memory', `${opts.label}: a single item does not fit in the device memory`, {
            cause: err,
          }),
          err,
        );
        return;
      }
      opts.cap.onOutOfMemory(items);
      await runParts(chunk);
      return;
    }
    if (chunk.length <= 1) {
      fail(chunk, classify(opts, err), err);
      return;
    }
    const half = Math.ceil(chunk.length / 2);
    await runParts(chunk.slice(0, half));
    await runParts(chunk.slice(half));
  };

  await runParts(parts);
  return outcomes;
}

function isOom(opts: { isOutOfMemory(err: unknown): boolean }, err: unknown): boolean {
  try {
    return opts.isOutOfMemory(err);
  } catch {
    return false;
  }
}

function classify(opts: { classifyError(err: unknown): ServiceError }, err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  try {
    return opts.classifyError(err);
  } catch {
    return new ServiceError('inference_failed', err instanceof Error ? err.message : String(err), { cause: err });
  }
}
