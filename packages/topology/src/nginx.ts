import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findRepoRoot, requireExecutable } from './paths.js';
import { assertPortFree, freePort, LOOPBACK } from './ports.js';
import { ManagedProcess } from './process.js';
import { httpGet, waitFor } from './wait.js';

/** The placeholders of the root nginx.conf, filled per deployment. */
export const NGINX_PLACEHOLDERS = [
  'NGINX_WORKER_PROCESSES',
  'NGINX_LISTEN_ADDRESS',
  'NGINX_LISTEN_PORT',
  'NGINX_GRPC_LISTEN_PORT',
  'NGINX_RUN_DIR',
  'NGINX_ACCESS_LOG',
  'NGINX_ERROR_LOG',
  'API_UPSTREAMS',
  'API_GRPC_UPSTREAMS',
] as const;

export type NginxPlaceholder = (typeof NGINX_PLACEHOLDERS)[number];

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

/**
 * `${NAME}` substitution as the official nginx image's envsubst does it for the names it is
 * given; any `${UPPER_CASE}` left without a value is an error rather than an empty string.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  const missing = new Set<string>();
  const out = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing.add(name);
      return whole;
    }
    return value;
  });
  if (missing.size > 0)
    throw new Error(`no value for placeholder(s) ${[...missing].map((n) => '${' + n + '}').join(', ')}`);
  return out;
}

/** The placeholders used in a template. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

export function defaultNginxTemplatePath(): string {
  return join(findRepoRoot(), 'nginx.conf');
}

export interface NginxConfOptions {
  listenPort: number;
  /** 127.0.0.1 by default. */
  listenAddress?: string;
  /** Ports of the API replicas on `apiHost`. */
  apiPorts?: readonly number[];
  apiHost?: string;
  /** Upstream addresses ("host:port"), instead of apiPorts. */
  apiUpstreams?: readonly string[];
  /** The gRPC listener's port (listenPort + 1 when rendering, a free one when starting), and the replicas' gRPC ports on `apiHost` (or their addresses). */
  grpcListenPort?: number;
  apiGrpcPorts?: readonly number[];
  apiGrpcUpstreams?: readonly string[];
  /** nginx prefix directory: the rendered config, pid file and temp files live here. */
  prefix: string;
  /** Defaults to 1 (a local stack does not need more). */
  workerProcesses?: number | 'auto';
  /** Defaults to <prefix>/logs/access.log. */
  accessLog?: string;
  /** Defaults to <prefix>/logs/error.log. */
  errorLog?: string;
  /** Template text; the root nginx.conf when absent. */
  template?: string;
  templatePath?: string;
}

/** The placeholder values for a local stack. */
export function nginxTemplateVars(options: NginxConfOptions): Record<NginxPlaceholder, string> {
  const prefix = resolve(options.prefix);
  const upstreams =
    options.apiUpstreams ?? (options.apiPorts ?? []).map((port) => `${options.apiHost ?? LOOPBACK}:${port}`);
  if (upstreams.length === 0) throw new Error('nginx needs at least one API upstream');
  const grpcUpstreams =
    options.apiGrpcUpstreams ?? (options.apiGrpcPorts ?? []).map((port) => `${options.apiHost ?? LOOPBACK}:${port}`);
  // Without gRPC replicas the listener still needs an upstream: one that refuses every call (UNAVAILABLE).
  const grpcServers = grpcUpstreams.length
    ? grpcUpstreams.map((u) => `server ${u} max_fails=1 fail_timeout=2s;`)
    : [`server ${LOOPBACK}:9 down;`];
  return {
    NGINX_WORKER_PROCESSES: String(options.workerProcesses ?? 1),
    NGINX_LISTEN_ADDRESS: options.listenAddress ?? LOOPBACK,
    NGINX_LISTEN_PORT: String(options.listenPort),
    NGINX_GRPC_LISTEN_PORT: String(options.grpcListenPort ?? options.listenPort + 1),
    NGINX_RUN_DIR: prefix,
    NGINX_ACCESS_LOG: options.accessLog ?? join(prefix, 'logs', 'access.log'),
    NGINX_ERROR_LOG: options.errorLog ?? join(prefix, 'logs', 'error.log'),
    API_UPSTREAMS: upstreams.map((u) => `server ${u} max_fails=1 fail_timeout=2s;`).join('\n        '),
    API_GRPC_UPSTREAMS: grpcServers.join('\n        '),
  };
}

/** The root nginx.conf with the local stack's values filled in. */
export function renderNginxConf(options: NginxConfOptions): string {
  const template = options.template ?? readFileSync(options.templatePath ?? defaultNginxTemplatePath(), 'utf8');
  return renderTemplate(template, nginxTemplateVars(options));
}

export interface NginxOptions extends NginxConfOptions {
  /** nginx binary; NGINX_BIN or the one on PATH/sbin by default. */
  bin?: string;
  /** Directory for nginx's own output and, unless given, its access/error logs. */
  logDir?: string;
  name?: string;
  echo?: boolean | NodeJS.WritableStream;
  /** Told about the process as soon as it is spawned, before it is up (so that it can be stopped meanwhile). */
  onSpawn?: (process: ManagedProcess) => void;
  startTimeoutMs?: number;
}

export interface NginxHandle {
  url: string;
  port: number;
  prefix: string;
  confPath: string;
  accessLog: string;
  errorLog: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

function runCapture(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

/**
 * nginx in the foreground (`daemon off`) with the rendered root nginx.conf; every path it writes
 * is inside `prefix` or `logDir`, so it runs as root and as an ordinary user. The config is
 * checked with `nginx -t` first, so a broken template fails with nginx's own message.
 */
export async function startNginx(options: NginxOptions): Promise<NginxHandle> {
  const prefix = resolve(options.prefix);
  const logDir = resolve(options.logDir ?? join(prefix, 'logs'));
  mkdirSync(prefix, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const name = options.name ?? 'nginx';
  const accessLog = options.accessLog ?? join(logDir, `${name}-access.log`);
  const errorLog = options.errorLog ?? join(logDir, `${name}-error.log`);
  const confPath = join(prefix, 'nginx.conf');
  const grpcListenPort = options.grpcListenPort ?? (await freePort());
  writeFileSync(confPath, renderNginxConf({ ...options, grpcListenPort, prefix, accessLog, errorLog }));
  const bin = options.bin ?? requireExecutable('nginx', 'NGINX_BIN');
  const listenHost = options.listenAddress && options.listenAddress !== '*' ? options.listenAddress : '0.0.0.0';
  await assertPortFree(options.listenPort, name, listenHost);
  // As root, nginx would run its workers as "nobody", which may not be able to reach temp files
  // below a private home directory; a local stack keeps them under the invoking user.
  const globals = ['daemon off;', 'master_process on;'];
  if (typeof process.getuid === 'function' && process.getuid() === 0) globals.push('user root;');
  const base = ['-p', `${prefix}/`, '-c', confPath, '-g', globals.join(' ')];
  // -e (1.19.5+) keeps nginx away from its compiled-in error log before the config is read.
  if (await supportsErrorLogFlag(bin)) base.splice(4, 0, '-e', errorLog);

  const check = await runCapture(bin, ['-t', '-q', ...base]);
  if (check.code !== 0) {
    throw new Error(`nginx rejected ${confPath}:\n${check.output.trim()}`);
  }
  const proc = await ManagedProcess.start({
    name,
    command: bin,
    args: base,
    cwd: prefix,
    logFile: join(logDir, `${name}.log`),
    echo: options.echo ?? false,
    // SIGQUIT: graceful shutdown, lets in-flight requests finish.
    stopSignal: 'SIGQUIT',
    stopTimeoutMs: 10_000,
  });
  options.onSpawn?.(proc);
  const host =
    options.listenAddress && options.listenAddress !== '*' && options.listenAddress !== '0.0.0.0'
      ? options.listenAddress
      : LOOPBACK;
  const url = `http://${host}:${options.listenPort}`;
  try {
    // Any HTTP answer means the listener is up (the upstreams may not be).
    await waitFor(`${name} to listen on ${url}`, async () => (await httpGet(`${url}/metrics`, 1000)).status > 0, {
      timeoutMs: options.startTimeoutMs ?? 15_000,
      intervalMs: 50,
      abort: proc.exitAsError(),
    });
  } catch (error) {
    await proc.stop();
    const tail = readTail(errorLog);
    if (error instanceof Error && tail) error.message += `\nerror log ${errorLog}:\n${tail}`;
    throw error;
  }
  return {
    url,
    port: options.listenPort,
    prefix,
    confPath,
    accessLog,
    errorLog,
    process: proc,
    stop: async () => {
      await proc.stop();
    },
  };
}

async function supportsErrorLogFlag(bin: string): Promise<boolean> {
  const { output } = await runCapture(bin, ['-v']);
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match) return false;
  const [major, minor, patch] = match.slice(1).map(Number) as [number, number, number];
  return major > 1 || (major === 1 && (minor > 19 || (minor === 19 && patch >= 5)));
}

function readTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
