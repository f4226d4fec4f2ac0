import type { InferenceApi, InferResult } from '../types.js';
import type { TensorInput } from '../tensors.js';

export interface PerfStep {
  concurrency: number;
  requests: number;
  errors: number;
  throughput: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  /** Means of what the server reports in each response's parameters. */
  server_queue_ms: number;
  server_compute_ms: number;
  server_total_ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A small perf_analyzer: `concurrency` loops send the same request back to back for
 * `durationS`, over whichever transport the client speaks. Latency is measured at the client;
 * queue and compute times are the server's own, from the response parameters. The cache is
 * skipped so that every request is computed.
 */
export async function perfStep(
  client: InferenceApi,
  model: string,
  inputs: TensorInput[],
  concurrency: number,
  durationS: number,
): Promise<PerfStep> {
  const latencies: number[] = [];
  const server = { queue: [] as number[], compute: [] as number[], total: [] as number[] };
  let errors = 0;
  const until = performance.now() + durationS * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      let result: InferResult;
      try {
        result = await client.infer(model, inputs, { noCache: true });
      } catch {
        errors++;
        continue;
      }
      latencies.push(performance.now() - t0);
      server.queue.push(Number(result.parameters.queue_ms));
      server.compute.push(Number(result.parameters.compute_ms));
      server.total.push(Number(result.parameters.total_ms));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    errors,
    throughput: round(latencies.length / elapsedS),
    p50_ms: round(percentile(latencies, 50)),
    p90_ms: round(percentile(latencies, 90)),
    p99_ms: round(percentile(latencies, 99)),
    server_queue_ms: round(mean(server.queue)),
    server_compute_ms: round(mean(server.compute)),
    server_total_ms: round(mean(server.total)),
  };
}
