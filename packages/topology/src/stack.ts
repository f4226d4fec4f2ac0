import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvOverrides, ServiceHandle } from './apps.js';
import { cudaDevices } from './devices.js';
import { findRepoRoot } from './paths.js';
import { freePorts, isListening, LOOPBACK } from './ports.js';
import { describeExit, indent, type ManagedProcess } from './process.js';
import { redisCredentials, redisUrls, type RedisUser } from './redis-auth.js';
import type { ServiceKind, StackOptions } from './stack-options.js';
import { planPorts } from './stack-ports.js';
import {
  apiService,
  nginxService,
  redisService,
  workerService,
  type Service,
  type StackPlan,
} from './stack-services.js';
import { waitFor, waitForHttp } from './wait.js';

/** Restart back-off: the first try comes quickly (a Redis outage is short), then doubles up to the cap. */
const RESTART_FIRST_MS = 250;
const RESTART_MAX_MS = 30_000;
/** A process that ran this long before dying starts its back-off afresh. */
const RESTART_STABLE_MS = 30_000;

const STOP_ORDER: ServiceKind[] = ['nginx', 'api', 'worker', 'redis'];

/**
 * The whole local topology: redis-server, workers, API replicas and nginx in front of them.
 * `Stack.launch` resolves when the gateway answers the readiness check; on any failure everything
 * started so far is stopped and the error names the log files. While it runs, `supervise` reports
 * (and with `restart`, restarts) every exit that `stop` did not ask for.
 */
export class Stack {
  readonly gatewayUrl: string;
  /** host:port of the gateway's gRPC listener (inference.GRPCInferenceService). */
  readonly grpcAddress: string;
  /** Redis as its admin user (the CLIs, tests); the API and the worker get their own users. */
  readonly redisUrl: string;
  readonly redisUrls: Record<RedisUser, string>;
  readonly apiUrls: string[];
  /** Every API replica's metrics endpoint (its own listener, never the public port). */
  readonly apiMetricsUrls: string[];
  /** The first worker's metrics endpoint (http://127.0.0.1:<port>/metrics); '' without workers. */
  readonly workerMetricsUrl: string;
  /** Every worker's metrics endpoint. */
  readonly workerMetricsUrls: string[];
  /** Every worker's base URL (/live and /metrics below it). */
  readonly workerUrls: string[];
  readonly runDir: string;
  readonly logDir: string;

  private readonly services: Service[] = [];
  /** Processes spawned and not yet up (a start or restart under way): stop() stops them too. */
  private readonly spawning = new Set<ManagedProcess>();
  private stopping = false;
  private stopped: Promise<void> | undefined;
  /** Workers started so far, addWorker's included: the next one's index. */
  private workerCount = 0;

  private constructor(private readonly plan: StackPlan) {
    const { ports, gatewayHost, redisAccess } = plan;
    const host = gatewayHost === '0.0.0.0' || gatewayHost === '*' ? LOOPBACK : gatewayHost;
    this.gatewayUrl = `http://${host}:${ports.gateway}`;
    this.grpcAddress = `${host}:${ports.gatewayGrpc}`;
    this.redisUrl = plan.redisUrl;
    this.redisUrls = redisAccess ?? { admin: plan.redisUrl, api: plan.redisUrl, worker: plan.redisUrl };
    this.apiUrls = ports.api.map((port) => `http://${LOOPBACK}:${port}`);
    this.apiMetricsUrls = ports.apiMetrics.map((port) => `http://${LOOPBACK}:${port}/metrics`);
    this.workerMetricsUrls = ports.workerMetrics.map((port) => `http://${LOOPBACK}:${port}/metrics`);
    this.workerMetricsUrl = this.workerMetricsUrls[0] ?? '';
    this.workerUrls = ports.workerMetrics.map((port) => `http://${LOOPBACK}:${port}`);
    this.runDir = plan.runDir;
    this.logDir = plan.common.logDir;
  }

  /** Starts Redis, then the workers and API replicas side by side, then nginx; waits for readiness. */
  static async launch(options: StackOptions = {}): Promise<Stack> {
    const stack = new Stack(await stackPlan(options));
    try {
      if (!options.redisUrl) await stack.startService(redisService(stack.plan));
      // Workers and replicas start side by side; each resolves once its own /live answers.
      const launches = [
        ...stack.plan.ports.workerMetrics.map((port) =>
          stack.startService(workerService(stack.plan, stack.workerCount++, port)),
        ),
        ...stack.plan.ports.api.map((_, i) => stack.startService(apiService(stack.plan, i))),
      ];
      const settled = await Promise.allSettled(launches);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      await stack.startService(nginxService(stack.plan));
      if (options.waitForReady !== false) await stack.waitReady();
    } catch (error) {
      await stack.stopAll().catch(() => undefined);
      if (error instanceof Error && !error.message.includes('logs (')) error.message += `\nlogs: ${stack.logDir}`;
      throw error;
    }
    return stack;
  }

  /** The current process of every service, in start order. */
  get processes(): ManagedProcess[] {
    return this.services.flatMap((s) => (s.current ? [s.current] : []));
  }

  process(name: string): ManagedProcess | undefined {
    return this.services.find((s) => s.name === name)?.current;
  }

  logFiles(): string[] {
    return this.processes.map((p) => p.logFile);
  }

  /** Starts one more worker (stopped with the stack). */
  async addWorker(opts: { env?: EnvOverrides; metricsPort?: number } = {}): Promise<ServiceHandle> {
    if (this.stopping) throw new Error('the stack is stopping');
    const [port] = opts.metricsPort ? [opts.metricsPort] : await freePorts(1);
    const service = workerService(this.plan, this.workerCount++, port!, opts.env);
    await this.startService(service);
    const proc = service.current!;
    const url = `http://${LOOPBACK}:${port}`;
    return { name: service.name, url, port: port!, process: proc, stop: async () => void (await proc.stop()) };
  }

  /** Stops the named service (if running) and starts it again with the same settings. */
  async restart(name: string): Promise<ManagedProcess> {
    const service = this.services.find((s) => s.name === name);
    if (!service) throw new Error(`no service named ${name}; there are ${this.services.map((s) => s.name).join(', ')}`);
    if (this.stopping) throw new Error('the stack is stopping');
    const previous = service.current;
    service.current = undefined;
    await previous?.stop();
    const proc = await this.spawn(service);
    this.adopt(service, proc);
    return proc;
  }

  /** Waits until the gateway's readiness endpoint answers 200. */
  async waitReady(timeoutMs = this.plan.options.readyTimeoutMs ?? 60_000): Promise<void> {
    const readyPath = this.plan.options.readyPath ?? '/ready';
    // Fail early when a process dies while we wait.
    const died = Promise.race(this.processes.map((p) => p.exitAsError()));
    try {
      await waitForHttp(`${this.gatewayUrl}${readyPath}`, { timeoutMs, intervalMs: 200, abort: died });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const logs = this.processes
        .map(
          (p) =>
            `  ${p.logFile}${p.running ? '' : ` (exited, ${describeExit(p.exitInfo!)})`}\n${indent(p.tail(8), '      ')}`,
        )
        .join('\n');
      throw new Error(`the stack did not become ready: ${message}\nlogs (${this.logDir}):\n${logs}`, { cause: error });
    }
  }

  /** Stops everything (nginx, APIs, workers, Redis), then checks that no port is left open. */
  stop(): Promise<void> {
    return (this.stopped ??= this.stopAll());
  }

  /** Starts the service's process; until it is up, stop() can still reach it. */
  private async spawn(service: Service): Promise<ManagedProcess> {
    let spawned: ManagedProcess | undefined;
    try {
      return await service.start((proc) => {
        spawned = proc;
        this.spawning.add(proc);
      });
    } finally {
      if (spawned) this.spawning.delete(spawned);
    }
  }

  private async startService(service: Service): Promise<void> {
    this.services.push(service);
    const proc = await this.spawn(service);
    if (this.stopping) {
      await proc.stop();
      return;
    }
    this.adopt(service, proc);
  }

  private adopt(service: Service, proc: ManagedProcess): void {
    service.current = proc;
    this.plan.options.onProcessStart?.({ name: service.name, kind: service.kind, process: proc });
    void this.supervise(service, proc);
  }

  /** Reports an exit nobody asked for and, with `restart`, starts the service again with back-off. */
  private async supervise(service: Service, proc: ManagedProcess): Promise<void> {
    const { options } = this.plan;
    const info = await proc.exited;
    if (proc.stopRequested || this.stopping || service.current !== proc) return;
    const restarting = Boolean(options.restart);
    options.onProcessExit?.({ name: service.name, kind: service.kind, info, restarting, logFile: proc.logFile });
    if (!restarting) return;
    // Children of the dead process (nginx's workers) would keep its port.
    proc.killGroupSync('SIGKILL');
    const stable = Date.now() - proc.startedAt >= RESTART_STABLE_MS;
    let delay = stable || !service.restartDelayMs ? RESTART_FIRST_MS : service.restartDelayMs;
    for (
      let attempt = 0;
      !this.stopping && service.current === proc;
      attempt++, delay = Math.min(delay * 2, RESTART_MAX_MS)
    ) {
      service.restartDelayMs = Math.min(delay * 2, RESTART_MAX_MS);
      await sleep(delay);
      if (this.stopping || service.current !== proc) return;
      try {
        const next = await this.spawn(service);
        if (this.stopping) {
          await next.stop();
          return;
        }
        this.adopt(service, next);
        return;
      } catch (error) {
        if (this.stopping) return; // stop() ended the start under way
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`[topology] restarting ${service.name} failed (attempt ${attempt + 1}): ${message}\n`);
      }
    }
  }

  private async stopAll(): Promise<void> {
    this.stopping = true;
    // A process still starting (a restart waiting for it to come up) is not `current` yet.
    await Promise.all([...this.spawning].map(async (proc) => proc.stop()));
    for (const kind of STOP_ORDER) {
      await Promise.all(this.services.filter((s) => s.kind === kind).map(async (s) => s.current?.stop()));
    }
    const { gateway } = this.plan.ports;
    const open: number[] = [];
    await Promise.all(
      this.services
        .flatMap((s) => s.ports)
        .map(async (port) => {
          const host = port === gateway ? this.plan.gatewayHost : LOOPBACK;
          try {
            await waitFor(`port ${port} to close`, async () => !(await isListening(port, host, 500)), {
              timeoutMs: 5000,
              intervalMs: 50,
            });
          } catch {
            open.push(port);
          }
        }),
    );
    if (open.length > 0)
      throw new Error(`after stopping the stack, port(s) ${open.join(', ')} still accept connections`);
  }
}

/** Starts a stack (see Stack.launch). */
export function startStack(options: StackOptions = {}): Promise<Stack> {
  return Stack.launch(options);
}

/** Checks the options and settles directories, ports and Redis access before anything starts. */
async function stackPlan(options: StackOptions): Promise<StackPlan> {
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
  const ports = await planPorts(options, { replicas, workers, gatewayHost });
  const redisDir = options.redisDir ?? join(runDir, 'redis');
  // The stack's own Redis requires a password per user (kept in its directory, see redis-auth.ts).
  const redisAccess = options.redisUrl ? undefined : redisUrls(LOOPBACK, ports.redis!, redisCredentials(redisDir));
  const redisUrl = options.redisUrl ?? redisAccess!.admin;
  return {
    options,
    ports,
    runDir,
    redisDir,
    gatewayHost,
    redisUrl,
    redisAccess,
    cudaDevices: options.cudaDevices ?? cudaDevices(options.baseEnv ?? process.env),
    common: {
      logDir,
      repoRoot,
      echo: options.echo ?? false,
      redisUrl,
      ...(modelRepository ? { modelRepository } : {}),
      ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    },
  };
}
