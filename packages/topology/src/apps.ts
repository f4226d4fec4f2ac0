import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from './paths.js';
import { assertPortFree, LOOPBACK } from './ports.js';
import { ManagedProcess } from './process.js';
import { waitForHttp } from './wait.js';

export type EnvOverrides = Readonly<Record<string, string | undefined>>;

/** Variables of the parent that must not leak into the services. */
const DROPPED = ['NODE_TEST_CONTEXT', 'NODE_UNIQUE_ID'];

/**
 * The environment of a service: `defaults` (overridable by the caller's environment), then the
 * parent's environment, then `overrides`, then `fixed` (what the topology decides: ports,
 * ids, addresses). An `undefined` value removes the variable.
 */
export function serviceEnv(
  defaults: EnvOverrides,
  overrides: EnvOverrides | undefined,
  fixed: EnvOverrides,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const apply = (source: EnvOverrides | NodeJS.ProcessEnv): void => {
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  };
  apply(defaults);
  apply(base);
  for (const key of DROPPED) delete env[key];
  if (overrides) apply(overrides);
  apply(fixed);
  return env;
}

export interface ServiceOptions {
  /** Extra variables for the service (override the inherited environment). */
  env?: EnvOverrides;
  /** Environment to inherit (process.env). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Directory for <name>.log. */
  logDir: string;
  name?: string;
  echo?: boolean | NodeJS.WritableStream;
  repoRoot?: string;
  /** Replace the command: [executable, ...args] (e.g. a stand-in server in tests). */
  command?: readonly [string, ...string[]];
  /** How long to wait for the health check (30 s). */
  startTimeoutMs?: number;
  /** Wait for the health check before resolving (true). */
  waitUntilLive?: boolean;
  redisUrl?: string;
  modelRepository?: string;
  logLevel?: string;
  /** Told about the process as soon as it is spawned, before it is up (so that it can be stopped meanwhile). */
  onSpawn?: (process: ManagedProcess) => void;
}

export interface ApiOptions extends ServiceOptions {
  port: number;
  /** The replica's gRPC port (GRPC_PORT); none when absent. */
  grpcPort?: number;
  /** Port of the replica's own /metrics listener (METRICS_PORT); 0 lets the replica pick. */
  metricsPort?: number;
  host?: string;
  replicaId?: string;
}

export interface WorkerOptions extends ServiceOptions {
  /** Port of the worker's own /metrics and /live; 0 lets the worker pick (no health wait). */
  metricsPort?: number;
  workerId?: string;
  device?: 'auto' | 'cuda' | 'cpu';
  cudaDeviceId?: number;
}

export interface ServiceHandle {
  name: string;
  /** Base URL of the service's HTTP port (the worker's metrics port), when known. */
  url: string | undefined;
  port: number | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

function entry(repoRoot: string, app: 'api' | 'worker'): string {
  const file = join(repoRoot, 'apps', app, 'dist', 'main.js');
  if (!existsSync(file))
    throw new Error(`${file} does not exist; build the workspace first (node scripts/bootstrap.mjs)`);
  return file;
}

function known(values: Record<string, string | number | undefined>): EnvOverrides {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = String(v);
  return out;
}

async function startService(
  options: ServiceOptions,
  name: string,
  defaultArgs: () => [string, ...string[]],
  env: NodeJS.ProcessEnv,
  stopTimeoutMs: number,
  healthUrl: string | undefined,
): Promise<ManagedProcess> {
  const [command, ...args] = options.command ?? defaultArgs();
  const proc = await ManagedProcess.start({
    name,
    command,
    args,
    cwd: options.repoRoot ?? findRepoRoot(),
    env,
    logFile: join(options.logDir, `${name}.log`),
    echo: options.echo ?? false,
    stopSignal: 'SIGTERM',
    stopTimeoutMs,
  });
  options.onSpawn?.(proc);
  if (healthUrl && options.waitUntilLive !== false) {
    try {
      await waitForHttp(healthUrl, {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        intervalMs: 100,
        abort: proc.exitAsError(),
      });
    } catch (error) {
      await proc.stop({ timeoutMs: 2000 });
      throw error;
    }
  }
  return proc;
}

/**
 * V8 flags every API replica runs with (the API image's command repeats them). A replica holds
 * little live data but allocates a lot per request; with V8's defaults its old generation grows
 * by up to 4x per collection and a replica sits near 200 MB under load. Growing by 15 % per
 * collection, with semi-spaces of 8 MB instead of 16, keeps it under 150 MB at the bench's
 * heaviest steps (PP-OCR and lid176 at 256 clients) for about 10 % more API CPU than the growth
 * rule alone, which peaked at 148–161 MB there (docs/benchmarks.md). Not a hard limit: a burst
 * of large requests still gets the memory it needs.
 */
export const API_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=15', '--max-semi-space-size=8'];

/** API_NODE_FLAGS, or the flags in API_NODE_FLAGS of the environment (space-separated; empty: none). */
function apiNodeFlags(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const given = env.API_NODE_FLAGS;
  return given === undefined ? API_NODE_FLAGS : given.split(/\s+/).filter(Boolean);
}

/** One API replica (`node apps/api/dist/main.js`); resolves once GET /live answers 200. */
export async function startApi(options: ApiOptions): Promise<ServiceHandle> {
  const name = options.name ?? `api-${options.port}`;
  const host = options.host ?? LOOPBACK;
  const env = serviceEnv(
    // glibc serves allocations from 64 KiB up with mmap, so request bodies freed after a burst
    // go back to the system instead of staying in the heap (docs/benchmarks.md).
    { LOG_LEVEL: options.logLevel ?? 'info', TRUST_PROXY: 'loopback', MALLOC_MMAP_THRESHOLD_: '65536' },
    options.env,
    known({
      PORT: options.port,
      GRPC_PORT: options.grpcPort ?? 0,
      HOST: host,
      METRICS_PORT: options.metricsPort ?? 0,
      REPLICA_ID: options.replicaId ?? options.env?.REPLICA_ID ?? name,
      REDIS_URL: options.redisUrl,
      MODEL_REPOSITORY: options.modelRepository,
    }),
    options.baseEnv,
  );
  const url = `http://${host === '0.0.0.0' ? LOOPBACK : host}:${options.port}`;
  await assertPortFree(options.port, name, host);
  if (options.metricsPort) await assertPortFree(options.metricsPort, `${name} metrics`);
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const proc = await startService(
    options,
    name,
    () => [process.execPath, ...apiNodeFlags(options.baseEnv ?? process.env), entry(repoRoot, 'api')],
    env,
    15_000,
    `${url}/live`,
  );
  return { name, url, port: options.port, process: proc, stop: async () => void (await proc.stop()) };
}

/**
 * One worker (`node apps/worker/dist/main.js`); resolves once its GET /ready answers 200 when it
 * has a fixed metrics port. SIGTERM lets it finish the batch in flight (SHUTDOWN_GRACE_MS,
 * 30 s), so it gets 35 s before SIGKILL.
 */
export async function startWorker(options: WorkerOptions): Promise<ServiceHandle> {
  const metricsPort = options.metricsPort ?? 0;
  const name = options.name ?? `worker-${metricsPort || process.hrtime.bigint().toString(36)}`;
  const env = serviceEnv(
    { LOG_LEVEL: options.logLevel ?? 'info', DEVICE: 'auto' },
    options.env,
    known({
      METRICS_PORT: metricsPort,
      WORKER_ID: options.workerId ?? options.env?.WORKER_ID ?? name,
      REDIS_URL: options.redisUrl,
      MODEL_REPOSITORY: options.modelRepository,
      DEVICE: options.device,
      CUDA_DEVICE_ID: options.cudaDeviceId,
    }),
    options.baseEnv,
  );
  const url = metricsPort > 0 ? `http://${LOOPBACK}:${metricsPort}` : undefined;
  if (metricsPort > 0) await assertPortFree(metricsPort, name);
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const flags = (options.baseEnv ?? process.env).WORKER_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  // /ready: Redis answers, the models are loaded and the worker is registered, so it takes jobs.
  const proc = await startService(
    options,
    name,
    () => [process.execPath, ...flags, entry(repoRoot, 'worker')],
    env,
    35_000,
    url && `${url}/ready`,
  );
  return { name, url, port: metricsPort || undefined, process: proc, stop: async () => void (await proc.stop()) };
}
