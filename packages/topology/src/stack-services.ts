import { join } from 'node:path';
import { startApi, startWorker, type EnvOverrides, type ServiceOptions } from './apps.js';
import { assignDevices } from './devices.js';
import { startNginx } from './nginx.js';
import type { ManagedProcess } from './process.js';
import { startRedis } from './redis.js';
import type { RedisUser } from './redis-auth.js';
import type { ServiceKind, StackOptions } from './stack-options.js';
import type { StackPorts } from './stack-ports.js';

/** One process of the stack, as it is started and, after an exit, started again. */
export interface Service {
  name: string;
  kind: ServiceKind;
  ports: number[];
  /** Starts the process and resolves once it is up; `onSpawn` learns of it as soon as it exists. */
  start: (onSpawn: (process: ManagedProcess) => void) => Promise<ManagedProcess>;
  current: ManagedProcess | undefined;
  /** Wait before the next restart; grows while the service keeps dying soon after starting. */
  restartDelayMs?: number;
}

/** What every service of one stack is started from. */
export interface StackPlan {
  options: StackOptions;
  ports: StackPorts;
  runDir: string;
  redisDir: string;
  gatewayHost: string;
  /** Redis as its admin user. */
  redisUrl: string;
  /** A URL per Redis user when the stack starts its own Redis. */
  redisAccess: Record<RedisUser, string> | undefined;
  cudaDevices: readonly number[];
  /** Options every API replica and worker shares. */
  common: ServiceOptions & { logDir: string; redisUrl: string };
}

function service(name: string, kind: ServiceKind, ports: number[], start: Service['start']): Service {
  return { name, kind, ports, start, current: undefined };
}

function substitutePort(
  command: readonly [string, ...string[]] | undefined,
  port: number,
): [string, ...string[]] | undefined {
  if (!command) return undefined;
  return command.map((part) => part.replaceAll('{port}', String(port))) as [string, ...string[]];
}

/**
 * Restarted (restart: true) on the same port and directory: what it persisted is read back, and
 * every client reconnects to it by itself.
 */
export function redisService({ options, ports, redisDir, common }: StackPlan): Service {
  return service('redis', 'redis', [ports.redis!], async (onSpawn) => {
    const redis = await startRedis({
      onSpawn,
      port: ports.redis!,
      dir: redisDir,
      logDir: common.logDir,
      echo: common.echo ?? false,
      ...(options.env?.QUEUE_PREFIX ? { prefix: options.env.QUEUE_PREFIX } : {}),
      ...(options.redisArgs ? { extraArgs: options.redisArgs } : {}),
    });
    return redis.process;
  });
}

export function workerService(plan: StackPlan, index: number, metricsPort: number, env?: EnvOverrides): Service {
  const { options, common, cudaDevices } = plan;
  const name = `worker-${index + 1}`;
  return service(name, 'worker', [metricsPort], async (onSpawn) => {
    const worker = await startWorker({
      ...common,
      onSpawn,
      name,
      metricsPort,
      redisUrl: plan.redisAccess?.worker ?? plan.redisUrl,
      ...(cudaDevices.length > 0 ? { cudaDeviceId: assignDevices(index + 1, cudaDevices)[index]! } : {}),
      env: { ...options.env, ...options.workerEnv, ...env },
      ...(options.workerCommand ? { command: substitutePort(options.workerCommand, metricsPort)! } : {}),
    });
    return worker.process;
  });
}

export function apiService(plan: StackPlan, index: number): Service {
  const { options, common, ports } = plan;
  const name = `api-${index + 1}`;
  const port = ports.api[index]!;
  const grpcPort = ports.apiGrpc[index]!;
  const metricsPort = ports.apiMetrics[index]!;
  return service(name, 'api', [port, metricsPort, grpcPort], async (onSpawn) => {
    const api = await startApi({
      ...common,
      onSpawn,
      name,
      port,
      grpcPort,
      redisUrl: plan.redisAccess?.api ?? plan.redisUrl,
      metricsPort,
      replicaId: name,
      env: { ...options.env, ...options.apiEnv },
      ...(options.apiCommand ? { command: substitutePort(options.apiCommand, port)! } : {}),
    });
    return api.process;
  });
}

export function nginxService({ options, ports, runDir, gatewayHost, common }: StackPlan): Service {
  return service('nginx', 'nginx', [ports.gateway, ports.gatewayGrpc], async (onSpawn) => {
    const nginx = await startNginx({
      onSpawn,
      listenPort: ports.gateway,
      grpcListenPort: ports.gatewayGrpc,
      listenAddress: gatewayHost,
      apiPorts: ports.api,
      apiGrpcPorts: ports.apiGrpc,
      prefix: options.nginxPrefix ?? join(runDir, 'nginx'),
      logDir: common.logDir,
      echo: common.echo ?? false,
      ...(options.nginxTemplatePath ? { templatePath: options.nginxTemplatePath } : {}),
    });
    return nginx.process;
  });
}
