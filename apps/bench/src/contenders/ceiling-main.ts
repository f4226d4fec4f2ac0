/**
 * The ceiling contender, run in its own process: one ONNX Runtime session and `session.run` in a
 * tight loop at each batch size of the sweep. No HTTP, no JSON, no copies beyond the input
 * tensor built once per size: what the device can do with this model and these threads.
 */
import { performance } from 'node:perf_hooks';
import { serveChildJob } from '../measure/child-job.js';
import type { ItemTensor } from '../measure/inputs.js';
import { createSession, feedsFor } from './ort-session.js';
import type { CeilingPoint, CeilingResult } from '../types.js';

export interface CeilingJob {
  model: string;
  file: string;
  tensors: ItemTensor[];
  batchSizes: number[];
  secondsPerSize: number;
  intraOpThreads: number;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function runCeiling(job: CeilingJob): Promise<CeilingResult> {
  const session = await createSession(job.file, job.intraOpThreads);
  const cpuStart = process.cpuUsage();
  const points: CeilingPoint[] = [];
  for (const batchSize of job.batchSizes) {
    const feeds = feedsFor(job.tensors, batchSize);
    // Warm-up: the first runs allocate the arena and pick kernels.
    await session.run(feeds);
    if (batchSize === 1) await session.run(feeds);
    const times: number[] = [];
    const budgetMs = job.secondsPerSize * 1000;
    let spent = 0;
    while (times.length < 3 || spent < budgetMs) {
      const t0 = performance.now();
      await session.run(feeds);
      const ms = performance.now() - t0;
      times.push(ms);
      spent += ms;
      if (times.length >= 100_000) break;
    }
    const sorted = [...times].sort((a, b) => a - b);
    points.push({
      batchSize,
      runs: times.length,
      itemsPerS: (batchSize * times.length) / (spent / 1000),
      meanMs: spent / times.length,
      p50Ms: median(sorted),
    });
    process.stderr.write(
      `  ceiling ${job.model} batch ${String(batchSize).padStart(2)}: ${points.at(-1)!.itemsPerS.toFixed(1)} items/s, ${points.at(-1)!.p50Ms.toFixed(2)} ms per run (p50)\n`,
    );
  }
  const cpu = process.cpuUsage(cpuStart);
  await session.release();
  const best = points.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
  const one = points.find((p) => p.batchSize === 1);
  return {
    model: job.model,
    intraOpThreads: job.intraOpThreads,
    points,
    best,
    batch1P50Ms: one ? one.p50Ms : Number.NaN,
    cpuS: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

// Child-process entry: one job in, one result out, over the IPC channel.
serveChildJob(runCeiling);
