import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from '@tessera/topology';
import { childJob } from './child-job.js';
import type { Target } from '../contenders/start.js';
import type { LoadJob } from './load-main.js';
import type { GrpcLoadJob } from './grpc-load-main.js';
import type { ItemTensor, ModelInput } from './inputs.js';
import type { BinaryTemplate, Vary } from './vary.js';
import { cpuSnapshot, hwmMb, RssSampler } from './proc-stats.js';
import { batchDistribution, parseMetrics, type Sample } from './prom.js';
import { requireAnswers } from './latency.js';
import type { LoadResult, ProcessUsage, StepResult } from '../types.js';
import { modelPath } from '../contenders/model-version.js';

/** Seconds a request may take before the load generator counts it as timed out. */
const REQUEST_TIMEOUT_S = 60;

export function load(job: LoadJob, cpus?: readonly number[]): Promise<LoadResult> {
  return childJob<LoadJob, LoadResult>(new URL('./load-main.js', import.meta.url), job, {
    timeoutMs: (job.durationS + REQUEST_TIMEOUT_S + 60) * 1000,
    cpus,
  });
}

export function loadGrpc(job: GrpcLoadJob, cpus?: readonly number[]): Promise<LoadResult> {
  return childJob<GrpcLoadJob, LoadResult>(new URL('./grpc-load-main.js', import.meta.url), job, {
    timeoutMs: (job.durationS + REQUEST_TIMEOUT_S + 60) * 1000,
    cpus,
  });
}

async function scrape(url: string | undefined): Promise<Sample[]> {
  if (!url) return [];
  try {
    const res = await httpGet(url, 5000);
    return res.status === 200 ? parseMetrics(res.body) : [];
  } catch {
    return [];
  }
}

/**
 * Waits until the contender's processes are (nearly) idle: when the load generator stops, the
 * requests already sent still run (queued jobs in the worker, requests parsed by the seed), and
 * they must not be charged to the next step.
 */
export async function settle(target: Target, maxMs = 60_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let quiet = 0;
  let last = cpuSnapshot(target.watched).reduce((n, s) => n + s.cpuS, 0);
  while (Date.now() < deadline && quiet < 2) {
    await sleep(250);
    const now = cpuSnapshot(target.watched).reduce((n, s) => n + s.cpuS, 0);
    // Idle services still tick (heartbeats, BullMQ polling); 0.15 cores is far below any load.
    quiet = now - last < 0.15 * 0.25 ? quiet + 1 : 0;
    last = now;
  }
}

export interface StepSpec {
  target: Target;
  model: string;
  body: string;
  /** Every request differs (cache misses) when given; otherwise all send `body` (cache hits). */
  template?: { text: string; vary: Vary };
  /** Send the binary-extension form of the request instead (with `template`'s variation). */
  binary?: BinaryTemplate;
  /** Or call ModelInfer on the gateway's gRPC port with these item tensors (with `template`'s variation). */
  grpc?: { tensors: ItemTensor[]; batched: boolean };
  itemsPerRequest: number;
  concurrency: number;
  durationS: number;
  warmupS: number;
  /** The CPUs the load generator is pinned to (unpinned without). */
  loadgenCpus?: readonly number[] | undefined;
}

/** What a step sends for `model`: its input, every request differing (binary or JSON per the step). */
export function requestsOf(
  model: string,
  input: ModelInput,
): Pick<StepSpec, 'model' | 'body' | 'template' | 'itemsPerRequest'> {
  return {
    model,
    body: input.body,
    template: { text: input.template, vary: input.vary },
    itemsPerRequest: input.items,
  };
}

/** Each load run starts its unique inputs here, so that no run repeats another's. */
let nextStart = 0;
const RUN_SPAN = 100_000_000;

export async function measureStep(spec: StepSpec): Promise<StepResult> {
  const { target, model, concurrency } = spec;
  const url = `${target.baseUrl}${modelPath(model)}/infer`;
  const job = (durationS: number): LoadJob => ({
    url,
    body: spec.body,
    ...(spec.template && spec.binary
      ? { binaryTemplate: { template: spec.binary, vary: spec.template.vary, start: (nextStart += RUN_SPAN) } }
      : spec.template
        ? { template: { ...spec.template, start: (nextStart += RUN_SPAN) } }
        : {}),
    headers: target.headers,
    connections: concurrency,
    durationS,
    timeoutS: REQUEST_TIMEOUT_S,
  });
  if (spec.grpc && !target.grpcAddress) throw new Error(`${target.name} has no gRPC listener`);
  const grpcJob = (durationS: number): GrpcLoadJob => ({
    address: target.grpcAddress!,
    apiKey: target.headers.authorization?.replace(/^Bearer /, ''),
    model,
    tensors: spec.grpc!.tensors,
    batched: spec.grpc!.batched,
    vary: spec.template?.vary ?? { kind: 'float' },
    start: (nextStart += RUN_SPAN),
    connections: concurrency,
    durationS,
    timeoutS: REQUEST_TIMEOUT_S,
  });
  const run = (durationS: number) =>
    spec.grpc ? loadGrpc(grpcJob(durationS), spec.loadgenCpus) : load(job(durationS), spec.loadgenCpus);
  if (spec.warmupS > 0) {
    await run(spec.warmupS);
    await settle(target);
  }
  const metricsBefore = await scrape(target.workerMetricsUrl);
  const cpuBefore = cpuSnapshot(target.watched);
  const rss = new RssSampler(target.watched);
  let result: LoadResult;
  let peaks: Map<string, number>;
  try {
    result = await run(spec.durationS);
  } finally {
    peaks = rss.stop();
  }
  requireAnswers(result, `${target.name} ${model} c=${concurrency}`);
  // CPU is read as soon as the load stops: what runs after (draining) is not part of the step.
  const cpuAfter = cpuSnapshot(target.watched);
  const metricsAfter = await scrape(target.workerMetricsUrl);
  await settle(target);

  const processes: ProcessUsage[] = target.watched.map((w, i) => {
    const cpuS = Math.max(0, cpuAfter[i]!.cpuS - cpuBefore[i]!.cpuS);
    return {
      name: w.name,
      pids: cpuAfter[i]!.pids,
      cpuS,
      cpuSPer1kRequests: result.completed > 0 ? (cpuS / result.completed) * 1000 : null,
      peakRssMb: peaks.get(w.name) ?? 0,
      hwmRssMb: hwmMb(w),
    };
  });
  const reqPerS = result.completed > 0 ? result.ok / result.durationS : 0;
  return {
    contender: target.name,
    model,
    inputs: spec.template ? 'unique' : 'repeated',
    concurrency,
    itemsPerRequest: spec.itemsPerRequest,
    reqPerS,
    itemsPerS: reqPerS * spec.itemsPerRequest,
    load: result,
    processes,
    batches: target.workerMetricsUrl ? batchDistribution(metricsBefore, metricsAfter, model) : null,
  };
}
