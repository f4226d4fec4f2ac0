#!/usr/bin/env node
// npm start: bootstrap, then the whole service on this machine as plain processes:
// redis-server, the worker(s), the API replicas and nginx in front of them. Ctrl-C (or SIGTERM)
// stops everything in order and exits 0.
//
// Knobs (environment):
//   GATEWAY_PORT=8080  GATEWAY_GRPC_PORT=8081  GATEWAY_HOST=127.0.0.1  API_REPLICAS=3  API_BASE_PORT=3001
//   REDIS_PORT=6390    WORKERS=1               WORKER_METRICS_PORT=9100  API_METRICS_PORT=9200
//   MODEL_REPOSITORY=.run/models  STACK_ECHO=1 (copy service logs here)  STACK_RESTART=1
//   READY_TIMEOUT_MS=120000  SKIP_BOOTSTRAP=1 (start the current build as it is)
// Everything else (LOG_LEVEL, DEVICE, INTRA_OP_THREADS, BODY_LIMIT, ...) reaches the services.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bootstrap, BootstrapError, MODELS_DIR, REPO_ROOT, RUN_DIR } from './bootstrap.mjs';

const STATE_FILE = join(RUN_DIR, 'stack.json');
/** The Redis admin user's URL, password included (mode 0600), for the key and queue CLIs. */
const ADMIN_URL_FILE = join(RUN_DIR, 'redis', 'admin-url');

function say(message) {
  process.stderr.write(`[start] ${message}\n`);
}

function intFromEnv(name, fallback, min = 0) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new BootstrapError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function flagFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * A previous `npm start` that was killed hard leaves its services running (each leads its own
 * process group). Stop those — only processes whose command line is the one recorded.
 */
function reapPreviousRun() {
  if (!existsSync(STATE_FILE)) return Promise.resolve();
  let state;
  try {
    state = JSON.parse(readFileSync(STATE_FILE, 'utf8'));
  } catch {
    rmSync(STATE_FILE, { force: true });
    return Promise.resolve();
  }
  if (state.pid && state.pid !== process.pid && alive(state.pid) && commandLine(state.pid).includes('start.mjs')) {
    throw new BootstrapError(
      `the stack is already running (npm start, pid ${state.pid}); stop it first, or use other ports`,
    );
  }
  const killed = [];
  for (const child of state.children ?? []) {
    const cmdline = alive(child.pid) ? commandLine(child.pid) : '';
    if (!cmdline || !(child.markers ?? [child.command]).every((m) => cmdline.includes(m))) continue;
    say(`stopping ${child.name} (pid ${child.pid}) left by an earlier run`);
    killed.push(child.pid);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  rmSync(STATE_FILE, { force: true });
  return waitGone(killed);
}

/**
 * Resolves when no live (non-zombie) process is left in the process groups led by `pids`: only
 * then are their ports closed. Zombies count as gone.
 */
async function waitGone(pids, timeoutMs = 10_000) {
  if (pids.length === 0) return;
  const groups = new Set(pids);
  const anyLeft = () => {
    let entries;
    try {
      entries = readdirSync('/proc');
    } catch {
      return false; // no procfs: nothing to wait on
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state !== 'Z' && groups.has(Number(pgrp))) return true;
      } catch {
        // exited meanwhile
      }
    }
    return false;
  };
  const deadline = Date.now() + timeoutMs;
  while (anyLeft() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** What identifies each child in /proc/<pid>/cmdline (redis-server rewrites its own). */
function markers(proc, config) {
  if (proc.name === 'redis') return ['redis-server', `:${config.redisPort}`];
  const own = proc.args.find((arg) => arg.startsWith(REPO_ROOT));
  return own ? [proc.command, own] : [proc.command];
}

/** Writes the pids of the current services, so that a run killed hard can be cleaned up. */
function recordRun(current, config) {
  const children = [...current.values()].map((p) => ({
    name: p.name,
    pid: p.pid,
    command: p.command,
    markers: markers(p, config),
  }));
  writeFileSync(
    STATE_FILE,
    `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), children }, null, 2)}\n`,
  );
}

function banner(stack, config, key) {
  const gw = stack.gatewayUrl;
  const body = '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}';
  const auth = key ? ' -H "Authorization: Bearer $KEY"' : '';
  const access = key
    ? `A development API key (scopes infer and admin; replaced on every start) — the examples use it:

  export KEY=${key}

More keys: REDIS_URL="$(cat ${ADMIN_URL_FILE})" npm run keys -- create --name NAME --scopes infer
Queue dashboard: sign in at ${gw}/admin/login with the key above
`
    : `AUTH=off: the API takes requests without keys. Never expose it like this.
`;
  return `
tessera is up: ${config.replicas} API replica(s), ${config.workers} worker(s), Redis, nginx.

  Gateway          ${gw}
  gRPC gateway     ${stack.grpcAddress} (inference.GRPCInferenceService)
  API replicas     ${stack.apiUrls.join('  ')}
  API metrics      ${stack.apiMetricsUrls.join('  ')}
  Worker metrics   ${stack.workerMetricsUrls.join('  ') || '(no workers)'}
  Redis            ${stack.redisUrl.replace(/:[^:@/]*@/, ':***@')} (as admin: ${ADMIN_URL_FILE})
  Models           ${config.modelRepository}
  Logs             ${stack.logDir}

${access}
Try:
  curl -s ${gw}/v2/health/ready -o /dev/null -w '%{http_code}\\n'
  curl -s ${gw}/v2/models/affine${auth}
  curl -s -X POST ${gw}/v2/models/affine/infer${auth} \\
       -H 'content-type: application/json' \\
       -d '${body}'
  curl -s ${stack.apiMetricsUrls[0]} | head
  TESSERA_URL=${gw}${key ? ' TESSERA_API_KEY=$KEY' : ''} npx tessera infer affine --input 'x=[[1,2,3,4]]'
  TESSERA_GRPC_URL=${stack.grpcAddress}${key ? ' TESSERA_API_KEY=$KEY' : ''} npx tessera infer affine --input 'x=[[1,2,3,4]]' --protocol grpc

Ctrl-C stops everything.
`;
}

async function main() {
  if (process.env.SKIP_BOOTSTRAP === '1') say('SKIP_BOOTSTRAP=1: starting the current build as it is');
  else await bootstrap();

  const config = {
    gatewayPort: intFromEnv('GATEWAY_PORT', 8080, 1),
    gatewayGrpcPort: intFromEnv('GATEWAY_GRPC_PORT', 8081, 1),
    gatewayHost: process.env.GATEWAY_HOST || '127.0.0.1',
    replicas: intFromEnv('API_REPLICAS', 3, 1),
    apiBasePort: intFromEnv('API_BASE_PORT', 3001, 1),
    redisPort: intFromEnv('REDIS_PORT', 6390, 1),
    workers: intFromEnv('WORKERS', 1, 0),
    workerMetricsPort: intFromEnv('WORKER_METRICS_PORT', 9100, 1),
    apiMetricsPort: intFromEnv('API_METRICS_PORT', 9200, 1),
    modelRepository: resolve(process.env.MODEL_REPOSITORY || MODELS_DIR),
    echo: flagFromEnv('STACK_ECHO', true),
    restart: flagFromEnv('STACK_RESTART', true),
    readyTimeoutMs: intFromEnv('READY_TIMEOUT_MS', 120_000, 1),
  };
  if (!existsSync(config.modelRepository))
    throw new BootstrapError(
      `model repository ${config.modelRepository} does not exist (npm run models creates .run/models)`,
    );

  const topologyEntry = join(REPO_ROOT, 'packages', 'topology', 'dist', 'index.js');
  if (!existsSync(topologyEntry)) throw new BootstrapError(`${topologyEntry} is missing; the build did not complete`);
  const { startStack, createApiKey } = await import(pathToFileURL(topologyEntry).href);

  mkdirSync(RUN_DIR, { recursive: true });
  await reapPreviousRun();

  let stack;
  const current = new Map();
  let shuttingDown = false;
  let exitCode = 0;
  const shutdown = async (reason, code = 0) => {
    if (shuttingDown) return;
    shuttingDown = true;
    exitCode = code;
    say(`${reason}: stopping (Ctrl-C again to kill at once)`);
    try {
      await stack?.stop();
      say('stopped');
    } catch (error) {
      say(`stop: ${error.message}`);
      exitCode = exitCode || 1;
    }
    rmSync(STATE_FILE, { force: true });
    process.exit(exitCode);
  };
  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      signals += 1;
      if (signals > 1) {
        say('killing everything');
        process.exit(130); // the topology's exit hook SIGKILLs every child
      }
      void shutdown(signal);
    });
  }

  say(
    `starting redis :${config.redisPort}, ${config.workers} worker(s), ${config.replicas} API replica(s) from :${config.apiBasePort}, nginx :${config.gatewayPort}`,
  );
  stack = await startStack({
    repoRoot: REPO_ROOT,
    runDir: RUN_DIR,
    logDir: join(RUN_DIR, 'logs'),
    redisDir: join(RUN_DIR, 'redis'),
    nginxPrefix: join(RUN_DIR, 'nginx'),
    replicas: config.replicas,
    workers: config.workers,
    gatewayPort: config.gatewayPort,
    gatewayGrpcPort: config.gatewayGrpcPort,
    gatewayHost: config.gatewayHost,
    apiBasePort: config.apiBasePort,
    redisPort: config.redisPort,
    workerMetricsPort: config.workerMetricsPort,
    apiMetricsPort: config.apiMetricsPort,
    modelRepository: config.modelRepository,
    echo: config.echo ? process.stdout : false,
    restart: config.restart,
    readyTimeoutMs: config.readyTimeoutMs,
    // Without a worker the readiness check cannot pass; the gateway is still useful.
    waitForReady: config.workers > 0,
    onProcessStart: ({ name, process: proc }) => {
      current.set(name, proc);
      if (!shuttingDown) recordRun(current, config);
    },
    onProcessExit: (event) => {
      const how = event.info.signal ? `signal ${event.info.signal}` : `code ${event.info.code}`;
      say(`${event.name} exited (${how})${event.restarting ? ', restarting it' : ''}; log ${event.logFile}`);
      if (!event.restarting) void shutdown(`${event.name} is gone`, 1);
    },
  });
  if (shuttingDown) return;
  writeFileSync(ADMIN_URL_FILE, `${stack.redisUrl}\n`, { mode: 0o600 });
  // Same rule as the API's: only an explicit off value turns authentication off.
  const authOff = ['off', 'false', '0', 'no'].includes((process.env.AUTH ?? '').toLowerCase());
  let key;
  if (authOff) say('AUTH=off: the API accepts requests without an API key');
  else
    key = (
      await createApiKey({
        redisUrl: stack.redisUrl,
        name: 'dev',
        scopes: ['infer', 'admin'],
        replace: true,
        repoRoot: REPO_ROOT,
        queuePrefix: process.env.QUEUE_PREFIX || undefined,
      })
    ).key;
  process.stdout.write(banner(stack, config, key));
}

main().catch((error) => {
  say(error instanceof BootstrapError ? error.message : (error?.message ?? String(error)));
  if (!(error instanceof BootstrapError) && process.env.DEBUG) say(error.stack);
  process.exit(1);
});
