import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, isExecutableFile } from './paths.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessOptions {
  /** Short name used for the log prefix and in errors, e.g. "api-1". */
  name: string;
  command: string;
  args?: readonly string[];
  cwd?: string;
  /** The complete environment of the child (nothing is merged in). */
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr of the child are appended to this file. */
  logFile: string;
  /** Also copy the output, line by line and prefixed with `[name]`, to this stream (true: stdout). */
  echo?: boolean | NodeJS.WritableStream;
  /** Signal for a graceful stop (SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** How long `stop()` waits after the stop signal before SIGKILL (10 s). */
  stopTimeoutMs?: number;
  /** The child's CPU scheduling policy (`cpuScheduling()`: CPU_SCHED, else batch). */
  scheduling?: CpuScheduling;
}

/**
 * `batch`: the child runs under Linux's SCHED_BATCH policy (through `chrt`, which every Linux
 * has in util-linux), at the same priority as any other process. A process woken up (a reply
 * from Redis, a request from nginx) then no longer preempts the one running, which finishes its
 * turn: on a host where more busy processes than cores pass each request along (nginx, three
 * replicas, Redis and a worker on two cores), every hand-off otherwise costs a preemption, and
 * each process handles fewer events per wake-up (2-6 % more throughput, docs/benchmarks.md).
 * `normal`: the default policy. Elsewhere than Linux, or without `chrt`, children run under the default.
 */
export type CpuScheduling = 'batch' | 'normal';

/** CPU_SCHED from the environment (`batch` unless it says `normal`). */
export function cpuScheduling(env: NodeJS.ProcessEnv = process.env): CpuScheduling {
  const given = env.CPU_SCHED?.trim().toLowerCase();
  if (given === undefined || given === '' || given === 'batch') return 'batch';
  if (given === 'normal') return 'normal';
  throw new Error(`CPU_SCHED must be batch or normal, got '${env.CPU_SCHED}'`);
}

let chrtPath: string | null | undefined;

/** Whether spawning `command` with `path` finds it (a path with a slash is taken as it is). */
const spawnable = (command: string, path: string | undefined): boolean =>
  command.includes('/') ? isExecutableFile(command) : findExecutable(command, path ?? '', []) !== undefined;

/**
 * The command line that starts `command` under `scheduling` (chrt execs it: same pid). A
 * command that cannot be found is left unwrapped, so that spawning it fails as such (ENOENT).
 */
export function scheduledCommand(
  command: string,
  args: readonly string[],
  scheduling: CpuScheduling,
  path = process.env.PATH,
): [string, string[]] {
  if (scheduling === 'batch' && process.platform === 'linux') {
    chrtPath ??= findExecutable('chrt') ?? null;
    if (chrtPath && spawnable(command, path)) return [chrtPath, ['--batch', '0', command, ...args]];
  }
  return [command, [...args]];
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the parent exits without stopping its children (an uncaught error, or
  // process.exit() from a test runner): nothing may outlive it.
  process.on('exit', () => {
    for (const proc of live) proc.killGroupSync('SIGKILL');
  });
  // Children lead their own process groups, so a signal that kills the parent does not reach
  // them. When nobody else handles the signal (a test process stopped by its runner), kill them
  // and then die of the signal as before. An application with its own handler (npm start's
  // ordered shutdown) is left alone.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const handler = (): void => {
      if (process.listenerCount(signal) > 1) return;
      for (const proc of live) proc.killGroupSync('SIGKILL');
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/**
 * One child process with its output captured to a log file. Each child leads its own process
 * group (it does not get the terminal's Ctrl-C, so the parent decides the shutdown order), and
 * the whole group is killed when the child is stopped, so grandchildren cannot linger.
 */
export class ManagedProcess {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly pid: number;
  /** Settles when the child has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Settles when the child has exited and its output is flushed to the log file. */
  readonly closed: Promise<ExitInfo>;
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;
  private readonly stopSignal: NodeJS.Signals;
  private readonly stopTimeoutMs: number;
  private info: ExitInfo | undefined;
  private stopping = false;

  private constructor(child: ChildProcess, options: ProcessOptions, log: WriteStream) {
    this.child = child;
    this.name = options.name;
    this.command = options.command;
    this.args = options.args ?? [];
    this.logFile = options.logFile;
    this.pid = child.pid!;
    this.stopSignal = options.stopSignal ?? 'SIGTERM';
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    live.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.info = { code, signal };
        live.delete(this);
        resolve(this.info);
      });
    });
    this.closed = new Promise((resolve) => {
      child.once('close', () => {
        log.end(() => resolve(this.info ?? { code: child.exitCode, signal: child.signalCode }));
      });
    });
  }

  /** Spawns the child; rejects when it cannot be started at all (e.g. ENOENT). */
  static start(options: ProcessOptions): Promise<ManagedProcess> {
    installExitHook();
    mkdirSync(dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`--- ${new Date().toISOString()} ${options.command} ${(options.args ?? []).join(' ')}\n`);
    const env = options.env ?? process.env;
    const [command, args] = scheduledCommand(
      options.command,
      options.args ?? [],
      options.scheduling ?? cpuScheduling(),
      env.PATH,
    );
    const child = spawn(command, args, {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const echo = options.echo === true ? process.stdout : options.echo || undefined;
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (!echo) return;
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) echo.write(`[${options.name}] ${line}\n`);
      });
      stream.on('end', () => {
        if (echo && partial) echo.write(`[${options.name}] ${partial}\n`);
        partial = '';
      });
    }
    return new Promise((resolve, reject) => {
      child.once('error', (error) => {
        log.end();
        reject(new Error(`cannot start ${options.name} (${options.command}): ${error.message}`, { cause: error }));
      });
      child.once('spawn', () => resolve(new ManagedProcess(child, options, log)));
    });
  }

  get running(): boolean {
    return this.info === undefined;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.info;
  }

  /** True once `stop()` has been called: an exit after that is expected. */
  get stopRequested(): boolean {
    return this.stopping;
  }

  /** Sends `signal` to the child itself. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Sends `signal` to the child's whole process group; false when the group is empty. */
  killGroupSync(signal: NodeJS.Signals | 0): boolean {
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Graceful stop: the stop signal, up to `timeoutMs` for the child to exit, then SIGKILL; and
   * in any case SIGKILL for whatever is left in its process group. Resolves once the output is
   * flushed.
   */
  async stop(options: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<ExitInfo> {
    this.stopping = true;
    if (this.running) {
      this.signal(options.signal ?? this.stopSignal);
      const timeoutMs = options.timeoutMs ?? this.stopTimeoutMs;
      const ac = new AbortController();
      const exited = await Promise.race([
        this.exited.then(() => true),
        sleep(timeoutMs, false, { signal: ac.signal }).catch(() => false),
      ]);
      ac.abort();
      if (!exited) {
        this.killGroupSync('SIGKILL');
        this.signal('SIGKILL');
        await this.exited;
      }
    }
    await this.reapGroup();
    return this.info!;
  }

  /** SIGKILL for the child and its process group, no grace period. */
  async kill(): Promise<ExitInfo> {
    this.stopping = true;
    this.killGroupSync('SIGKILL');
    this.signal('SIGKILL');
    await this.exited;
    await this.reapGroup();
    return this.info!;
  }

  private async reapGroup(): Promise<void> {
    // Grandchildren that outlived the child (e.g. nginx workers of a killed master).
    for (let i = 0; i < 50 && this.killGroupSync(0); i++) {
      this.killGroupSync('SIGKILL');
      await sleep(20);
    }
    const ac = new AbortController();
    await Promise.race([this.closed, sleep(2000, undefined, { signal: ac.signal }).catch(() => undefined)]);
    ac.abort();
  }

  /** The last `lines` lines of the log file. */
  tail(lines = 20): string {
    try {
      const text = readFileSync(this.logFile, 'utf8').trimEnd();
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** A promise that rejects when the child exits; for racing against readiness checks. */
  exitAsError(): Promise<never> {
    return this.exited.then(async (info) => {
      const ac = new AbortController();
      await Promise.race([this.closed, sleep(1000, undefined, { signal: ac.signal }).catch(() => undefined)]);
      ac.abort();
      throw new Error(
        `${this.name} exited (${describeExit(info)}) before it was ready; log ${this.logFile}:\n${indent(this.tail())}`,
      );
    });
  }
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

export function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** Live children started through this module (for diagnostics). */
export function liveProcesses(): ManagedProcess[] {
  return [...live];
}
