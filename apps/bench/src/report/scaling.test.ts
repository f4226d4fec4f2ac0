import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadgenCpus } from '../contenders/pin.js';
import { requestTensors } from '../measure/grpc-request.js';
import type { CeilingResult, StepResult } from '../types.js';
import { frontDoorRows } from './front-doors.js';
import { costsOf, gpuCurve, predictThroughput, type CostsMs } from './scaling.js';
import { scalingChecks } from './scaling-check.js';

const costs: CostsMs = { api: 0.6, redis: 0.1, nginx: 0.05, workerPath: 0.1, compute: 0.07, loadgen: 0.2 };
const layout = { cores: 2, replicas: 3, workers: 1, nginxWorkers: 1, itemsPerRequest: 1, loadgenShares: false };

test('scaling model: the least of the cores, the single-threaded processes and the device', () => {
  const two = predictThroughput(costs, layout);
  assert.equal(two.bound, 'cores');
  assert.ok(Math.abs(two.reqPerS - 2000 / 0.92) < 1e-9, String(two.reqPerS));
  // A load generator on the same cores takes its share of them.
  assert.ok(Math.abs(predictThroughput(costs, { ...layout, loadgenShares: true }).reqPerS - 2000 / 1.12) < 1e-9);
  // One replica: its one JavaScript thread is the limit before the cores are.
  const one = predictThroughput(costs, { ...layout, cores: 16, replicas: 1 });
  assert.equal(one.bound, 'api');
  assert.ok(Math.abs(one.reqPerS - 1000 / 0.6) < 1e-9);
  // Many cores and replicas: Redis, single-threaded, is next.
  assert.equal(predictThroughput(costs, { ...layout, cores: 64, replicas: 60 }).bound, 'redis');
});

test('scaling model: GPU workers run session.run off the cores; N workers scale until another bound', () => {
  const gpu = (workers: number) =>
    predictThroughput(costs, { ...layout, cores: 16, replicas: 14, workers, gpuItemsPerS: 4000 });
  assert.equal(gpu(1).bound, 'device');
  assert.equal(gpu(1).reqPerS, 4000);
  assert.equal(gpu(2).reqPerS, 8000);
  assert.equal(gpu(8).bound, 'redis', 'eight GPUs outrun the one Redis');
  assert.ok(
    Math.abs(gpu(8).bounds.cores - (16 * 1000) / 0.75) < 1e-6,
    'the GPU workers are not charged to the API node',
  );
  const curve = gpuCurve(costs, { cores: 16, gpuItemsPerS: 4000, itemsPerRequest: 1, nginxWorkers: 16 }, [1, 2, 4, 8]);
  assert.deepEqual(
    curve.map((p) => [p.workers, p.bound, Math.round(p.reqPerS)]),
    [
      [1, 'device', 4000],
      [2, 'device', 8000],
      [4, 'redis', 10000],
      [8, 'redis', 10000],
    ],
  );
});

const ceiling: CeilingResult = {
  model: 'lid176',
  intraOpThreads: 1,
  batch1P50Ms: 0.3,
  cpuS: 1,
  peakRssMb: 100,
  points: [
    { batchSize: 1, runs: 10, itemsPerS: 3000, meanMs: 0.33, p50Ms: 0.3 },
    { batchSize: 16, runs: 10, itemsPerS: 12000, meanMs: 1.6, p50Ms: 1.6 },
    { batchSize: 64, runs: 10, itemsPerS: 15000, meanMs: 6.4, p50Ms: 6.4 },
  ],
  best: { batchSize: 64, runs: 10, itemsPerS: 15000, meanMs: 6.4, p50Ms: 6.4 },
};

function step(contender: StepResult['contender'], reqPerS: number, p50: number, cpu: Record<string, number> = {}) {
  return {
    contender,
    model: 'lid176',
    inputs: 'unique',
    concurrency: 64,
    itemsPerRequest: 1,
    reqPerS,
    itemsPerS: reqPerS,
    load: {
      connections: 64,
      durationS: 5,
      completed: reqPerS * 5,
      ok: reqPerS * 5,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      statusCodes: { 200: reqPerS * 5 },
      latencyMs: { p50, p90: p50, p99: 2 * p50, mean: p50, max: 2 * p50 },
      loadgenCpuS: reqPerS * 5 * 0.0002,
    },
    processes: Object.entries(cpu).map(([name, ms]) => ({
      name,
      pids: [1],
      cpuS: 1,
      cpuSPer1kRequests: ms,
      peakRssMb: 90,
      hwmRssMb: 90,
    })),
    batches: {
      buckets: {},
      batches: reqPerS / 20,
      items: reqPerS * 5,
      meanSize: 20,
      capAtEnd: 64,
      delaySecondsAtEnd: 0,
    },
  } satisfies StepResult;
}

test('costs per process come from a step, with session.run at its mean batch taken out of the worker', () => {
  const s = step('full', 1000, 30, { nginx: 0.05, 'api-1': 0.2, 'api-2': 0.2, redis: 0.1, 'worker-1': 0.3 });
  const c = costsOf(s, ceiling);
  assert.ok(Math.abs(c.api - 0.4) < 1e-9);
  assert.ok(Math.abs(c.compute - 0.1) < 1e-9, 'batch 20 is nearest to 16: 1.6 ms / 16 items');
  assert.ok(Math.abs(c.workerPath - 0.2) < 1e-9);
  assert.ok(Math.abs(c.loadgen - 0.2) < 1e-9);
  // A run on one core predicted from a two-core calibration: error is against the measurement.
  const measured = step('full', 900, 60, { nginx: 1, 'api-1': 1, redis: 1, 'worker-1': 1 });
  const [check] = scalingChecks(
    { steps: [measured], ceilings: [ceiling] },
    { cores: 1, replicas: 2, workers: 1, nginxWorkers: 1, loadgenShares: false },
    { source: 'ref.json', steps: [s], ceilings: [ceiling] },
  );
  assert.equal(check!.costsFrom, 'ref.json');
  assert.equal(check!.coresUsed, 4 / 5, 'four processes of 1 CPU s each in 5 s');
  assert.ok(Math.abs(check!.atCoresUsed.reqPerS - 800 / 0.85) < 1e-9, 'the same costs on the 0.8 cores it got');
  assert.ok(Math.abs(check!.predicted.reqPerS - 1000 / 0.85) < 1e-9);
  assert.ok(Math.abs(check!.errorPct - ((1000 / 0.85 - 900) / 900) * 100) < 1e-9);
});

test('front doors: gRPC and REST JSON against REST binary at the same step', () => {
  const rows = frontDoorRows({
    steps: [step('full', 1000, 30), step('grpc', 1200, 25), step('json', 500, 60), step('seed', 3000, 10)],
    ceilings: [ceiling],
  });
  assert.deepEqual(
    rows.map((r) => [r.door, r.vsBinary, r.p50VsBinary, r.p99VsBinary]),
    [
      ['gRPC', 1.2, -5, -10],
      ['REST binary', 1, 0, 0],
      ['REST JSON', 0.5, 30, 60],
    ],
  );
  assert.ok(Math.abs(rows[0]!.p50OverRun! - 24.7) < 1e-9);
  assert.deepEqual(frontDoorRows({ steps: [step('full', 1, 1), step('seed', 1, 1)], ceilings: [] }), []);
});

test('--cpus: the load generator gets the other CPUs, or shares when there are none', () => {
  assert.equal(loadgenCpus(undefined, 2), undefined);
  assert.deepEqual(loadgenCpus([0], 2), [1]);
  assert.equal(loadgenCpus([0, 1], 2), undefined);
  assert.deepEqual(loadgenCpus([1, 3], 4), [0, 2]);
});

test('gRPC requests carry the item with a batch dimension, the first two values unique per request', () => {
  const job = {
    tensors: [{ name: 'ids', datatype: 'INT64' as const, shape: [3], values: [5, 6, 7] }],
    batched: true,
    vary: { kind: 'ids' as const, offset: 1, rows: 40 },
  };
  const seen = new Set<string>();
  for (let k = 0; k < 1600; k++) {
    const [t] = requestTensors(job, k);
    assert.deepEqual(t!.shape, [1, 3]);
    assert.equal((t!.data as BigInt64Array)[2], 7n);
    seen.add(String([...(t!.data as BigInt64Array)]));
  }
  assert.equal(seen.size, 1600);
});
