import type { Bound, CeilingResult, CostsMs, Layout, Prediction, StepResult } from '../types.js';

export type { Bound, CostsMs, Layout, Prediction } from '../types.js';

const perS = (units: number, ms: number) => (ms > 0 ? (units * 1000) / ms : Number.POSITIVE_INFINITY);

/**
 * The scaling model (docs/benchmarks.md, "Scaling on paper"): the full stack's throughput is the
 * least of what each resource can carry, from the CPU each process spends per request.
 *
 * - cores: every process shares the C cores: C / (sum of CPU per request);
 * - API replicas: a replica runs its requests on one JavaScript thread: R / api;
 * - Redis and each nginx worker are single-threaded: 1 / redis, N / nginx;
 * - workers: a worker's serving path (dequeue, batching, reply) is one JavaScript thread:
 *   W / workerPath; its device does W × (items per second per device) / items per request, where
 *   on the CPU that is session.run's own CPU, which then also counts against the cores.
 * A GPU worker is a machine of its own: neither its serving path nor session.run is charged to
 * the API node's cores.
 */
export function predictThroughput(c: CostsMs, l: Layout): Prediction {
  const onGpu = l.gpuItemsPerS !== undefined;
  const coreMs = c.api + c.redis + c.nginx + (onGpu ? 0 : c.workerPath + c.compute) + (l.loadgenShares ? c.loadgen : 0);
  const bounds: Record<Bound, number> = {
    cores: perS(l.cores, coreMs),
    api: perS(l.replicas, c.api),
    redis: perS(1, c.redis),
    nginx: perS(l.nginxWorkers, c.nginx),
    worker: perS(l.workers, c.workerPath),
    device: onGpu ? (l.workers * l.gpuItemsPerS!) / l.itemsPerRequest : perS(l.workers, c.compute),
  };
  const [bound, reqPerS] = (Object.entries(bounds) as [Bound, number][]).reduce((a, b) => (b[1] < a[1] ? b : a));
  return { reqPerS, bound, bounds };
}

/** session.run milliseconds per item at the ceiling's batch size nearest (in ratio) to `batch`. */
export function computeMsPerItem(ceiling: CeilingResult, batch: number): number {
  const distance = (size: number) => Math.abs(Math.log(size / Math.max(1, batch)));
  const point = ceiling.points.reduce((a, b) => (distance(b.batchSize) < distance(a.batchSize) ? b : a));
  return point.meanMs / point.batchSize;
}

/** A full-stack step's CPU per request by process kind, with session.run taken out of the worker's. */
export function costsOf(step: StepResult, ceiling: CeilingResult | undefined): CostsMs {
  const ms = (prefix: string) =>
    step.processes.filter((p) => p.name.startsWith(prefix)).reduce((sum, p) => sum + (p.cpuSPer1kRequests ?? 0), 0);
  const worker = ms('worker');
  const batch = step.batches?.meanSize ?? 1;
  // With one intra-op thread session.run's wall time is its CPU time.
  const compute = ceiling ? Math.min(worker, computeMsPerItem(ceiling, batch) * step.itemsPerRequest) : 0;
  return {
    api: ms('api'),
    redis: ms('redis'),
    nginx: ms('nginx'),
    workerPath: worker - compute,
    compute,
    loadgen: step.load.completed > 0 ? (step.load.loadgenCpuS / step.load.completed) * 1000 : 0,
  };
}

/**
 * The predicted curve for an API node of `cores` cores (nginx, Redis and as many API replicas as
 * cores on it; the load generator elsewhere) in front of N GPU workers.
 */
export function gpuCurve(
  c: CostsMs,
  node: { cores: number; gpuItemsPerS: number; itemsPerRequest: number; nginxWorkers: number },
  workers: readonly number[],
): (Prediction & { workers: number })[] {
  return workers.map((w) => ({
    workers: w,
    ...predictThroughput(c, { ...node, replicas: node.cores, workers: w, loadgenShares: false }),
  }));
}
