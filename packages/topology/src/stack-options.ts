import type { EnvOverrides } from './apps.js';
import type { ExitInfo, ManagedProcess } from './process.js';

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
