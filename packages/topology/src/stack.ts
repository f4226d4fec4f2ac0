import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker, type EnvOverrides, type ServiceHandle } from './apps.js';
import { assignDevices, cudaDevices } from './devices.js';
import { startNginx } from './nginx.js';
import { findRepoRoot } from './paths.js';
import { assertPortFree, freePorts, isListening, LOOPBACK } from './ports.js';
import { describeExit, indent, type ExitInfo, type ManagedProcess } from './process.js';
import { startRedis } from './redis.js';
import { redisCredentials, redisUrls, type RedisUser } from './redis-auth.js';
import { waitFor, waitForHttp } from './wait.js';

export type ServiceKind = 'redis' | 'worker' | 'api' | 'nginx';

export interface StackOptions {
  /** API replicas behind nginx (3). */
  replicas?: number;
  /** Worker processes (1). */
  workers?: number;
  /** nginx port; 0 or absent picks a free port. */
  gatewayPort?: number;
  /** nginx's gRPC port; 0 or absent picks a free port. */
  gatewayGrpcPort?: number;
  /** nginx listen address (127.0.0.1). */
  gatewayHost?: string;
  /** redis-server port; 0 or absent picks a free port. */
  redisPort?: number;
  /** Use this Redis instead of starting one. */
  redisUrl?: string;
  /** Replica i listens on apiBasePort + i; 0 or absent picks free ports. */
  apiBasePort?: number;
  /** Replica i serves /metrics on apiMetricsPort + i; 0 or absent picks free ports. */
  apiMetricsPort?: number;
  /** Worker i serves /metrics on workerMetricsPort + i; 0 or absent picks free ports. */
  workerMetricsPort?: number;
  /** Model repository directory (MODEL_REPOSITORY of the environment by default). */
  modelRepository?: string;
  /** Variables for every service. */
  env?: EnvOverrides;
  apiEnv?: EnvOverrides;
  workerEnv?: EnvOverrides;
  /** GPU of each worker: worker i gets cudaDevices[i] (wrapping); CUDA_DEVICES or every GPU nvidia-smi sees by default. */
  cudaDevices?: readonly number[];
  /** Environment the services inherit (process.env). */
  baseEnv?: NodeJS.ProcessEnv;
  /** State directory (redis dir, nginx prefix, logs); a new one under <repo>/.run/stacks by default. */
  runDir?: string;
  logDir?: string;
  redisDir?: string;
  nginxPrefix?: string;
  /** Copy every service's output to this stream (true: stdout), prefixed with its name. */
  echo?: boolean | NodeJS.WritableStream;
  /** Wait for the gateway's readiness endpoint before resolving (true). */
  waitForReady?: boolean;
  /** Path checked through the gateway (/ready). */
  readyPath?: string;
  readyTimeoutMs?: number;
  /** Start any service (Redis and nginx included) again when it exits on its own, with back-off (false). */
  restart?: boolean;
  /** Extra redis-server arguments (`--name value` pairs). */
  redisArgs?: readonly string[];
  /** Told about every exit that stop() did not ask for. */
  onProcessExit?: (event: ProcessExitEvent) => void;
  /** Told about every process the stack starts, restarts included (e.g. to record pids). */
  onProcessStart?: (event: { name: string; kind: ServiceKind; process: ManagedProcess }) => void;
  repoRoot?: string;
  /** Template instead of the root nginx.conf. */
  nginxTemplatePath?: string;
  /** Replace the API / worker command (e.g. stand-ins in tests); `{port}` in an argument becomes the port. */
  apiCommand?: readonly [string, ...string[]];
  workerCommand?: readonly [string, ...string[]];
  logLevel?: string;
}

export interface ProcessExitEvent {
  name: string;
  kind: ServiceKind;
  info: ExitInfo;
  restarting: boolean;
  logFile: string;
}

export interface Stack {
  gatewayUrl: string;
  /** host:port of the gateway's gRPC listener (inference.GRPCInferenceService). */
  grpcAddress: string;
  /** Redis as its admin user (the CLIs, tests); the API and the worker get their own users. */
  redisUrl: string;
  redisUrls: Record<RedisUser, string>;
  apiUrls: string[];
  /** Every API replica's metrics endpoint (its own listener, never the public port). */
  apiMetricsUrls: string[];
  /** The first worker's metrics endpoint (http://127.0.0.1:<port>/metrics); '' without workers. */
  workerMetricsUrl: string;
  /** Every worker's metrics endpoint. */
  workerMetricsUrls: string[];
  /** Every worker's base URL (/live and /metrics below it). */
  workerUrls: string[];
  runDir: string;
  logDir: string;
  /** The current process of every service, in start order. */
  readonly processes: ManagedProcess[];
  process(name: string): ManagedProcess | undefined;
  logFiles(): string[];
  /** Starts one more worker (stopped with the stack). */
  addWorker(options?: { env?: EnvOverrides; metricsPort?: number }): Promise<ServiceHandle>;
  /** Stops the named service (if running) and starts it again with the same settings. */
  restart(name: string): Promise<ManagedProcess>;
  /** Waits until the gateway's readiness endpoint answers 200. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops everything (nginx, APIs, workers, Redis), then checks that no port is left open. */
  stop(): Promise<void>;
}

interface Service {
  name: string;
  kind: ServiceKind;
  ports: number[];
  start: () => Promise<ManagedProcess>;
  current: ManagedProcess | undefined;
  /** Wait before the next restart; grows while the service keeps dying soon after starting. */
  restartDelayMs?: number;
}

/** Restart back-off: the first try comes quickly (a Redis outage is short), then doubles up to the cap. */
const RESTART_FIRST_MS = 250;
const RESTART_MAX_MS = 30_000;
/** A process that ran this long before dying starts its back-off afresh. */
const RESTART_STABLE_MS = 30_000;

const STOP_ORDER: ServiceKind[] = ['nginx', 'api', 'worker', 'redis'];

function substitutePort(
  command: readonly [string, ...string[]] | undefined,
  port: number,
): [string, ...string[]] | undefined {
  if (!command) return undefined;
  return command.map((part) => part.replaceAll('{port}', String(port))) as [string, ...string[]];
}

/**
 * The whole local topology: redis-server, workers, API replicas and nginx in front of them.
 * Resolves when the gateway answers the readiness check; on any failure everything started so
 * far is stopped and the error names the log files.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const replicas = options.replicas ?? 3;
  const workers = options.workers ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1)
    throw new Error(`replicas must be a positive integer, got ${replicas}`);
  if (!Number.isInteger(workers) || workers < 0)
    throw new Error(`workers must be a non-negative integer, got ${workers}`);
  const runDir = resolve(
    options.runDir ?? join(repoRoot, '.run', 'stacks', `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`),
  );
  const logDir = resolve(options.logDir ?? join(runDir, 'logs'));
  mkdirSync(logDir, { recursive: true });
  const modelRepository = options.modelRepository ?? options.env?.MODEL_REPOSITORY ?? process.env.MODEL_REPOSITORY;
  if (!modelRepository && !(options.apiCommand && options.workerCommand)) {
    throw new Error(
      'no model repository: pass modelRepository or set MODEL_REPOSITORY (node scripts/bootstrap.mjs prepares .run/models)',
    );
  }
  const gatewayHost = options.gatewayHost ?? LOOPBACK;

  // Ports: explicit ones must be free, the rest are picked now.
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
  const [gatewayPort] = await wanted(options.gatewayPort, 1, 'the gateway (gatewayPort / GATEWAY_PORT)');
  const [gatewayGrpcPort] = await wanted(
    options.gatewayGrpcPort,
    1,
    'the gateway gRPC port (gatewayGrpcPort / GATEWAY_GRPC_PORT)',
  );
  const redisPort = options.redisUrl
    ? undefined
    : (await wanted(options.redisPort, 1, 'Redis (redisPort / REDIS_PORT)'))[0];
  const apiPorts = await wanted(options.apiBasePort, replicas, 'the API replicas (apiBasePort / API_BASE_PORT)');
  // Each replica's gRPC port: picked freely (a fixed HTTP base leaves the ports after it to the replicas).
  const apiGrpcPorts = await freePorts(replicas);
  const apiMetricsPorts = await wanted(
    options.apiMetricsPort,
    replicas,
    'API metrics (apiMetricsPort / API_METRICS_PORT)',
  );
  const metricsPorts = await wanted(
    options.workerMetricsPort,
    workers,
    'worker metrics (workerMetricsPort / WORKER_METRICS_PORT)',
  );
  const redisDir = options.redisDir ?? join(runDir, 'redis');
  // The stack's own Redis requires a password per user (kept in its directory, see redis-auth.ts).
  const redisAccess = options.redisUrl ? undefined : redisUrls(LOOPBACK, redisPort!, redisCredentials(redisDir));
  const redisUrl = options.redisUrl ?? redisAccess!.admin;
  const devices = options.cudaDevices ?? cudaDevices(options.baseEnv ?? process.env);

  const services: Service[] = [];
  let stopping = false;
  const common = {
    logDir,
    repoRoot,
    echo: options.echo ?? false,
    redisUrl,
    ...(modelRepository ? { modelRepository } : {}),
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  };

  const adopt = (service: Service, proc: ManagedProcess): void => {
    service.current = proc;
    options.onProcessStart?.({ name: service.name, kind: service.kind, process: proc });
    supervise(service, proc);
  };

  const supervise = (service: Service, proc: ManagedProcess): void => {
    void proc.exited.then(async (info) => {
      if (proc.stopRequested || stopping || service.current !== proc) return;
      const restarting = Boolean(options.restart);
      options.onProcessExit?.({ name: service.name, kind: service.kind, info, restarting, logFile: proc.logFile });
      if (!restarting) return;
      // Children of the dead process (nginx's workers) would keep its port.
      proc.killGroupSync('SIGKILL');
      const stable = Date.now() - proc.startedAt >= RESTART_STABLE_MS;
      let delay = stable || !service.restartDelayMs ? RESTART_FIRST_MS : service.restartDelayMs;
      for (
        let attempt = 0;
        !stopping && service.current === proc;
        attempt++, delay = Math.min(delay * 2, RESTART_MAX_MS)
      ) {
        service.restartDelayMs = Math.min(delay * 2, RESTART_MAX_MS);
        await sleep(delay);
        if (stopping || service.current !== proc) return;
        try {
          const next = await service.start();
          if (stopping) {
            await next.stop();
            return;
          }
          adopt(service, next);
          return;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          process.stderr.write(`[topology] restarting ${service.name} failed (attempt ${attempt + 1}): ${message}\n`);
        }
      }
    });
  };

  const launch = async (service: Service): Promise<void> => {
    services.push(service);
    const proc = await service.start();
    if (stopping) {
      await proc.stop();
      return;
    }
    adopt(service, proc);
  };

  const workerService = (index: number, metricsPort: number, env?: EnvOverrides): Service => {
    const name = `worker-${index + 1}`;
    return {
      name,
      kind: 'worker',
      ports: [metricsPort],
      current: undefined,
      start: async () =>
        (
          await startWorker({
            ...common,
            name,
            metricsPort,
            redisUrl: redisAccess?.worker ?? redisUrl,
            ...(devices.length > 0 ? { cudaDeviceId: assignDevices(index + 1, devices)[index]! } : {}),
            env: { ...options.env, ...options.workerEnv, ...env },
            ...(options.workerCommand ? { command: substitutePort(options.workerCommand, metricsPort)! } : {}),
          })
        ).process,
    };
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const kind of STOP_ORDER) {
      await Promise.all(services.filter((s) => s.kind === kind).map(async (s) => s.current?.stop()));
    }
    const ports = services.flatMap((s) => s.ports);
    const open: number[] = [];
    await Promise.all(
      ports.map(async (port) => {
        try {
          await waitFor(
            `port ${port} to close`,
            async () => !(await isListening(port, port === gatewayPort ? gatewayHost : LOOPBACK, 500)),
            { timeoutMs: 5000, intervalMs: 50 },
          );
        } catch {
          open.push(port);
        }
      }),
    );
    if (open.length > 0)
      throw new Error(`after stopping the stack, port(s) ${open.join(', ')} still accept connections`);
  };

  const gatewayUrl = `http://${gatewayHost === '0.0.0.0' || gatewayHost === '*' ? LOOPBACK : gatewayHost}:${gatewayPort}`;
  const readyPath = options.readyPath ?? '/ready';
  const allProcesses = (): ManagedProcess[] => services.flatMap((s) => (s.current ? [s.current] : []));
  const waitReady = async (timeoutMs = options.readyTimeoutMs ?? 60_000): Promise<void> => {
    // Fail early when a process dies while we wait.
    const died = Promise.race(allProcesses().map((p) => p.exitAsError()));
    try {
      await waitForHttp(`${gatewayUrl}${readyPath}`, { timeoutMs, intervalMs: 200, abort: died });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const logs = allProcesses()
        .map(
          (p) =>
            `  ${p.logFile}${p.running ? '' : ` (exited, ${describeExit(p.exitInfo!)})`}\n${indent(p.tail(8), '      ')}`,
        )
        .join('\n');
      throw new Error(`the stack did not become ready: ${message}\nlogs (${logDir}):\n${logs}`, { cause: error });
    }
  };

  try {
    if (!options.redisUrl) {
      await launch({
        name: 'redis',
        kind: 'redis',
        ports: [redisPort!],
        current: undefined,
        // Restarted (restart: true) on the same port and directory: what it persisted is read
        // back, and every client reconnects to it by itself.
        start: async () =>
          (
            await startRedis({
              port: redisPort!,
              dir: redisDir,
              logDir,
              echo: common.echo,
              ...(options.env?.QUEUE_PREFIX ? { prefix: options.env.QUEUE_PREFIX } : {}),
              ...(options.redisArgs ? { extraArgs: options.redisArgs } : {}),
            })
          ).process,
      });
    }
    // Workers and replicas start side by side; each resolves once its own /live answers.
    const launches: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) launches.push(launch(workerService(i, metricsPorts[i]!)));
    apiPorts.forEach((port, i) => {
      const name = `api-${i + 1}`;
      launches.push(
        launch({
          name,
          kind: 'api',
          ports: [port, apiMetricsPorts[i]!, apiGrpcPorts[i]!],
          current: undefined,
          start: async () =>
            (
              await startApi({
                ...common,
                name,
                port,
                grpcPort: apiGrpcPorts[i]!,
                redisUrl: redisAccess?.api ?? redisUrl,
                metricsPort: apiMetricsPorts[i]!,
                replicaId: name,
                env: { ...options.env, ...options.apiEnv },
                ...(options.apiCommand ? { command: substitutePort(options.apiCommand, port)! } : {}),
              })
            ).process,
        }),
      );
    });
    const settled = await Promise.allSettled(launches);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await launch({
      name: 'nginx',
      kind: 'nginx',
      ports: [gatewayPort!, gatewayGrpcPort!],
      current: undefined,
      start: async () =>
        (
          await startNginx({
            listenPort: gatewayPort!,
            grpcListenPort: gatewayGrpcPort!,
            listenAddress: gatewayHost,
            apiPorts,
            apiGrpcPorts,
            prefix: options.nginxPrefix ?? join(runDir, 'nginx'),
            logDir,
            echo: common.echo,
            ...(options.nginxTemplatePath ? { templatePath: options.nginxTemplatePath } : {}),
          })
        ).process,
    });
    if (options.waitForReady !== false) await waitReady();
  } catch (error) {
    await stopAll().catch(() => undefined);
    if (error instanceof Error && !error.message.includes('logs (')) error.message += `\nlogs: ${logDir}`;
    throw error;
  }

  let stopPromise: Promise<void> | undefined;
  let extraWorkers = 0;
  return {
    gatewayUrl,
    grpcAddress: `${gatewayHost === '0.0.0.0' || gatewayHost === '*' ? LOOPBACK : gatewayHost}:${gatewayGrpcPort}`,
    redisUrl,
    redisUrls: redisAccess ?? { admin: redisUrl, api: redisUrl, worker: redisUrl },
    apiUrls: apiPorts.map((port) => `http://${LOOPBACK}:${port}`),
    apiMetricsUrls: apiMetricsPorts.map((port) => `http://${LOOPBACK}:${port}/metrics`),
    workerMetricsUrl: metricsPorts[0] ? `http://${LOOPBACK}:${metricsPorts[0]}/metrics` : '',
    workerMetricsUrls: metricsPorts.map((port) => `http://${LOOPBACK}:${port}/metrics`),
    workerUrls: metricsPorts.map((port) => `http://${LOOPBACK}:${port}`),
    runDir,
    logDir,
    get processes() {
      return allProcesses();
    },
    process: (name) => services.find((s) => s.name === name)?.current,
    logFiles: () => services.flatMap((s) => (s.current ? [s.current.logFile] : [])),
    addWorker: async (opts = {}) => {
      if (stopping) throw new Error('the stack is stopping');
      const [port] = opts.metricsPort ? [opts.metricsPort] : await freePorts(1);
      const service = workerService(workers + extraWorkers++, port!, opts.env);
      await launch(service);
      const proc = service.current!;
      const url = `http://${LOOPBACK}:${port}`;
      return { name: service.name, url, port, process: proc, stop: async () => void (await proc.stop()) };
    },
    restart: async (name) => {
      const service = services.find((s) => s.name === name);
      if (!service) throw new Error(`no service named ${name}; there are ${services.map((s) => s.name).join(', ')}`);
      if (stopping) throw new Error('the stack is stopping');
      const previous = service.current;
      service.current = undefined;
      await previous?.stop();
      const proc = await service.start();
      adopt(service, proc);
      return proc;
    },
    waitReady,
    stop: () => (stopPromise ??= stopAll()),
  };
}
