/**
 * The gRPC load generator, in its own process as autocannon is (its CPU is not charged to any
 * contender): N closed-loop clients, each on its own HTTP/2 connection as each of autocannon's
 * clients is on its own HTTP/1.1 connection, calling ModelInfer through the SDK's
 * GrpcInferenceClient (raw tensor bytes, as tritonclient.grpc sends them). Each request's first
 * two values differ (see vary.ts), so the response cache misses as it does for the REST steps.
 */
import { TesseraError } from '@tessera/client';
import { GrpcInferenceClient } from '@tessera/client/grpc';
import { serveChildJob } from './child-job.js';
import type { ItemTensor } from './inputs.js';
import { summarize } from './latency.js';
import type { Vary } from './vary.js';
import { requestTensors } from './grpc-request.js';
import type { LoadResult } from '../types.js';

export interface GrpcLoadJob {
  /** host:port of the gateway's gRPC listener. */
  address: string;
  apiKey: string | undefined;
  model: string;
  /** One item's tensors; sent with a leading batch dimension of 1 when `batched`. */
  tensors: ItemTensor[];
  batched: boolean;
  vary: Vary;
  start: number;
  connections: number;
  durationS: number;
  timeoutS: number;
}

/** The HTTP status an answer stands for: 200, the server's status of an error, 0 for a transport failure. */
function statusOf(err: unknown): number {
  return err instanceof TesseraError ? err.status : 0;
}

export async function runGrpcLoad(job: GrpcLoadJob): Promise<LoadResult> {
  const cpuStart = process.cpuUsage();
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let k = job.start;
  const clients = Array.from(
    { length: job.connections },
    () =>
      new GrpcInferenceClient({
        url: job.address,
        ...(job.apiKey ? { apiKey: job.apiKey } : {}),
        retry: { retries: 0 },
        timeoutMs: job.timeoutS * 1000,
        // A connection per client (grpc-js shares one between clients of the same target otherwise).
        channelOptions: { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1 },
      }),
  );
  const loop = async (client: GrpcInferenceClient) => {
    while (performance.now() < endAt) {
      const inputs = requestTensors(job, k++);
      const sent = performance.now();
      try {
        await client.infer(job.model, inputs);
        latencies.push(performance.now() - sent);
        statusCodes['200'] = (statusCodes['200'] ?? 0) + 1;
      } catch (err) {
        const status = statusOf(err);
        if (status === 0) errors++;
        else statusCodes[String(status)] = (statusCodes[String(status)] ?? 0) + 1;
        if (status === 504) timeouts++;
      }
    }
  };
  // Every connection is up before the clock starts, as autocannon connects before sending.
  await Promise.all(clients.map((c) => c.serverLive().catch(() => false)));
  const startedAt = performance.now();
  const endAt = startedAt + job.durationS * 1000;
  await Promise.all(clients.map(loop));
  const durationS = (performance.now() - startedAt) / 1000;
  for (const c of clients) c.close();
  const cpu = process.cpuUsage(cpuStart);
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const ok = statusCodes['200'] ?? 0;
  return {
    connections: job.connections,
    durationS,
    completed,
    ok,
    non2xx: completed - ok,
    errors,
    timeouts,
    statusCodes,
    latencyMs: summarize(latencies),
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
  };
}

// Child-process entry: one job in, one result out, over the IPC channel.
serveChildJob(runGrpcLoad);
