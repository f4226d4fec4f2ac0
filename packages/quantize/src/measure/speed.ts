import * as ort from 'onnxruntime-node';
import type { Feeds } from '../calibrate.js';

export interface Speed {
  /** Median milliseconds of one session.run on one item. */
  singleMs: number;
  /** Items per second at the batch size that gave the most (from the median run at that size). */
  bestThroughput: number;
  bestBatch: number;
}

/** One item repeated `n` times along the batch axis. */
function batchOf(feed: Feeds, n: number): Feeds {
  return Object.fromEntries(
    Object.entries(feed).map(([name, t]) => {
      const one = t.data as Float32Array;
      const data = new (one.constructor as Float32ArrayConstructor)(one.length * n);
      for (let i = 0; i < n; i++) data.set(one, i * one.length);
      return [name, new ort.Tensor(t.type as 'float32', data, [n, ...t.dims.slice(1)])];
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * session.run on the CPU with one intra-op thread, as the worker runs by default, for several
 * versions of a model at once. The versions take turns run by run, so a change in the machine's
 * load (it is shared) falls on all of them alike. Per version: the median single-item run, and
 * the best items per second over the batch sizes given.
 */
export async function measureSpeeds(
  models: readonly Uint8Array[],
  feed: Feeds,
  batches: readonly number[],
  runs: number,
): Promise<Speed[]> {
  const sessions = await Promise.all(
    models.map((m) =>
      ort.InferenceSession.create(m, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 }),
    ),
  );
  try {
    const perBatch = new Map<number, number[][]>();
    for (const n of batches) {
      const input = n === 1 ? feed : batchOf(feed, n);
      for (const s of sessions) await s.run(input); // warm-up
      const times: number[][] = sessions.map(() => []);
      for (let r = 0; r < Math.max(3, Math.ceil(runs / n)); r++) {
        for (const [i, s] of sessions.entries()) {
          const t0 = performance.now();
          await s.run(input);
          times[i]!.push(performance.now() - t0);
        }
      }
      perBatch.set(n, times);
    }
    return sessions.map((_, i) => {
      const singleMs = median(perBatch.get(1)![i]!);
      let best = { bestThroughput: 1000 / singleMs, bestBatch: 1 };
      for (const [n, times] of perBatch) {
        const perSecond = (n * 1000) / median(times[i]!);
        if (perSecond > best.bestThroughput) best = { bestThroughput: perSecond, bestBatch: n };
      }
      return { singleMs, ...best };
    });
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}
