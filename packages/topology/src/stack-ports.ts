import { assertPortFree, freePorts, LOOPBACK } from './ports.js';
import type { StackOptions } from './stack-options.js';

export interface StackPorts {
  gateway: number;
  gatewayGrpc: number;
  /** Absent when the stack uses a Redis of its own (redisUrl). */
  redis: number | undefined;
  /** Per replica: HTTP, gRPC and metrics. */
  api: number[];
  apiGrpc: number[];
  apiMetrics: number[];
  /** Per worker: its metrics and probes listener. */
  workerMetrics: number[];
}

/** Every port of the stack: explicit ones must be free, the rest are picked now. */
export async function planPorts(
  options: StackOptions,
  counts: { replicas: number; workers: number; gatewayHost: string },
): Promise<StackPorts> {
  const { replicas, workers, gatewayHost } = counts;
  const wanted = async (base: number | undefined, count: number, what: string): Promise<number[]> => {
    if (count === 0) return [];
    if (base) {
      const ports = Array.from({ length: count }, (_, i) => base + i);
      for (const port of ports)
        await assertPortFree(port, what, what.startsWith('the gateway') ? gatewayHost : LOOPBACK);
      return ports;
    }
    return freePorts(count);
  };
  const [gateway] = await wanted(options.gatewayPort, 1, 'the gateway (gatewayPort / GATEWAY_PORT)');
  const [gatewayGrpc] = await wanted(
    options.gatewayGrpcPort,
    1,
    'the gateway gRPC port (gatewayGrpcPort / GATEWAY_GRPC_PORT)',
  );
  const redis = options.redisUrl
    ? undefined
    : (await wanted(options.redisPort, 1, 'Redis (redisPort / REDIS_PORT)'))[0];
  const api = await wanted(options.apiBasePort, replicas, 'the API replicas (apiBasePort / API_BASE_PORT)');
  // Each replica's gRPC port: picked freely (a fixed HTTP base leaves the ports after it to the replicas).
  const apiGrpc = await freePorts(replicas);
  const apiMetrics = await wanted(options.apiMetricsPort, replicas, 'API metrics (apiMetricsPort / API_METRICS_PORT)');
  const workerMetrics = await wanted(
    options.workerMetricsPort,
    workers,
    'worker metrics (workerMetricsPort / WORKER_METRICS_PORT)',
  );
  return { gateway: gateway!, gatewayGrpc: gatewayGrpc!, redis, api, apiGrpc, apiMetrics, workerMetrics };
}
