#!/usr/bin/env node
// Prepares a checkout for `npm start` and `npm test`: Node version check, pnpm, the system
// binaries the local stack runs (redis-server, nginx), workspace install, build and the model
// repository. Every step is skipped when it is already done and skipping is safe.
//
// Usable as a module (`import { bootstrap } from './bootstrap.mjs'`) and as a CLI:
//   node scripts/bootstrap.mjs                 all steps
//   node scripts/bootstrap.mjs --models-only   only (re)generate the model repository
//   flags: --no-system --no-install --no-build --no-models --force-install --quiet
// Plain Node ESM without dependencies: it runs before anything is installed.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  rmSync,
  accessSync,
  constants,
} from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RUN_DIR = join(REPO_ROOT, '.run');
export const MODELS_DIR = join(RUN_DIR, 'models');
export const MIN_NODE_MAJOR = 20;
export const SYSTEM_PACKAGES = /** @type {const} */ (['redis-server', 'nginx']);
/**
 * Debian packages only the tests need: a Compose client for `docker compose config` on the
 * deployment file (no engine is involved), the CJK and Latin fonts the OCR test images are
 * drawn with, and Chromium for the browser tests.
 * drawn with, kubectl and Prometheus.
 */
export const TEST_PACKAGES = [
  // The Sentinel failover test runs three real sentinels (the same package a deployment uses).
  { pkg: 'redis-sentinel', present: (env) => Boolean(findExecutable('redis-sentinel', env.PATH)) },
  {
    pkg: 'docker-compose',
    present: (env) => Boolean(findExecutable('docker-compose', env.PATH)) || composePlugin(env),
  },
  { pkg: 'fonts-noto-cjk', present: () => existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc') },
  { pkg: 'fonts-dejavu-core', present: () => existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') },
  // The browser the SDK and /docs are tested in (headless, driven by playwright-core).
  { pkg: 'chromium', present: () => existsSync('/usr/bin/chromium') },
  // envsubst renders nginx.conf as the official nginx image does (the deployment's template step).
  { pkg: 'gettext-base', present: (env) => Boolean(findExecutable('envsubst', env.PATH)) },
  // kubectl renders deploy/k8s (`kubectl kustomize`); promtool checks and unit-tests the alert
  // rules, and the e2e test runs a real Prometheus against the stack.
  { pkg: 'kubernetes-client', present: (env) => Boolean(findExecutable('kubectl', env.PATH)) },
  {
    pkg: 'prometheus',
    present: (env) => Boolean(findExecutable('promtool', env.PATH) && findExecutable('prometheus', env.PATH)),
  },
];

/** The fonts also draw the text lines the quantized OCR versions are calibrated on, so `npm start` needs them too. */
export const MODEL_PACKAGES = TEST_PACKAGES.filter((p) => p.pkg.startsWith('fonts-'));

function composePlugin(env) {
  const docker = findExecutable('docker', env.PATH);
  return Boolean(docker) && spawnSync(docker, ['compose', 'version'], { stdio: 'ignore' }).status === 0;
}
const INSTALL_STAMP = join(REPO_ROOT, 'node_modules', '.tessera-install-stamp');
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export class BootstrapError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'BootstrapError';
  }
}

let quiet = false;
function log(message) {
  if (!quiet) process.stderr.write(`[bootstrap] ${message}\n`);
}

/** pnpm version pinned by the root package.json's packageManager field. */
export function pinnedPnpmVersion() {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const match = /^pnpm@(\d[^+]*)/.exec(pkg.packageManager ?? '');
  return match?.[1] ?? '12.4.2';
}

/** Absolute path of an executable named `name` on PATH (plus the sbin directories), or undefined. */
export function findExecutable(name, pathValue = process.env.PATH ?? '') {
  const dirs = [...pathValue.split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a command, inheriting stdio; resolves with its exit code. */
export function run(command, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      stdio: options.stdio ?? 'inherit',
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

async function runOrThrow(command, args, options = {}) {
  const code = await run(command, args, options);
  if (code !== 0) throw new BootstrapError(`\`${[command, ...args].join(' ')}\` failed with exit code ${code}`);
}

// ---------------------------------------------------------------------------------------------
// Step 1: Node

export function checkNode(version = process.versions.node) {
  const major = Number(version.split('.')[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new BootstrapError(
      `Node.js >= ${MIN_NODE_MAJOR} is required, this is ${version}. Install Node ${MIN_NODE_MAJOR} LTS or newer and run again.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Step 2: pnpm

/**
 * Makes the pinned pnpm available and returns the directory holding its binary, so that it can
 * be put on PATH for turbo (which runs each task through the package manager).
 */
export async function ensurePnpm(env = process.env) {
  const version = pinnedPnpmVersion();
  const onPath = findExecutable('pnpm', env.PATH);
  if (onPath) {
    const result = spawnSync(onPath, ['--version'], { encoding: 'utf8', env });
    if (result.status === 0 && result.stdout.trim() === version) return dirname(onPath);
  }
  const npx = findExecutable('npx', env.PATH) ?? join(dirname(process.execPath), 'npx');
  // `npx -p pnpm@X -c 'command -v pnpm'` fetches pnpm into npm's cache (once) and prints its bin.
  const result = spawnSync(npx, ['-y', '-p', `pnpm@${version}`, '-c', 'command -v pnpm'], {
    encoding: 'utf8',
    env: { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bin = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !bin || !existsSync(bin)) {
    throw new BootstrapError(
      `Could not obtain pnpm ${version} through npx (exit ${result.status}). Install it with \`npm install -g pnpm@${version}\` and run again.`,
    );
  }
  return dirname(bin);
}

// ---------------------------------------------------------------------------------------------
// Step 3: system binaries (redis-server, nginx)

/** Which of the system packages are missing; `{ 'redis-server': path|undefined, nginx: path|undefined }`. */
export function locateSystemBinaries(env = process.env) {
  return {
    'redis-server': env.REDIS_SERVER_BIN || findExecutable('redis-server', env.PATH),
    nginx: env.NGINX_BIN || findExecutable('nginx', env.PATH),
  };
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function passwordlessSudo() {
  if (!findExecutable('sudo')) return false;
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
}

/** The shell command a person would run to install the missing packages. */
export function installCommand(packages) {
  return `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`;
}

/**
 * Installs redis-server and nginx through apt when they are missing. Debian starts the packaged
 * services right after install (nginx on :80, redis on :6379); a temporary policy-rc.d that
 * denies service starts prevents that, and they are disabled where systemd manages them, since
 * the stack runs both as plain child processes with their own configuration.
 */
export async function ensureSystemPackages(env = process.env, extra = []) {
  const found = locateSystemBinaries(env);
  const missing = [
    ...SYSTEM_PACKAGES.filter((name) => !found[name]),
    ...extra.filter((x) => !x.present(env)).map((x) => x.pkg),
  ];
  if (missing.length === 0) return found;

  const apt = findExecutable('apt-get');
  if (!apt) {
    throw new BootstrapError(
      `Missing ${missing.join(' and ')}, and this system has no apt-get. Install ${missing.join(' and ')} with the system's package manager (or point REDIS_SERVER_BIN / NGINX_BIN at them) and run again.`,
    );
  }
  const root = isRoot();
  if (!root && !passwordlessSudo()) {
    throw new BootstrapError(
      `Missing ${missing.join(' and ')}. Install ${missing.length > 1 ? 'them' : 'it'} with:\n\n    ${installCommand(missing)}\n    sudo systemctl disable --now ${missing.map(serviceName).join(' ')} 2>/dev/null || true\n\nthen run again.`,
    );
  }
  const asRoot = (args) => (root ? args : ['sudo', '-n', ...args]);
  const exec = async (args, opts) => {
    const [cmd, ...rest] = asRoot(args);
    await runOrThrow(cmd, rest, opts);
  };

  log(`installing ${missing.join(', ')} with apt-get`);
  const policy = '/usr/sbin/policy-rc.d';
  const placedPolicy = !existsSync(policy);
  if (placedPolicy) {
    if (root) writeFileSync(policy, '#!/bin/sh\n# no service starts during install\nexit 101\n', { mode: 0o755 });
    else await exec(['sh', '-c', `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod 755 ${policy}`]);
  }
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await exec(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-qq'], { env: aptEnv });
    await exec(
      [
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '-qq',
        '--no-install-recommends',
        ...missing,
      ],
      { env: aptEnv },
    );
  } finally {
    if (placedPolicy) {
      if (root) rmSync(policy, { force: true });
      else await run('sudo', ['-n', 'rm', '-f', policy]);
    }
  }
  // Where systemd runs, make sure the packaged services neither run now nor start at boot.
  if (existsSync('/run/systemd/system') && findExecutable('systemctl')) {
    const [cmd, ...rest] = asRoot(['systemctl', 'disable', '--now', ...missing.map(serviceName)]);
    await run(cmd, rest, { stdio: 'ignore' });
  } else {
    // No systemd: stop whatever the maintainer scripts may have started despite policy-rc.d.
    for (const [name, pidFile] of [
      ['nginx', '/run/nginx.pid'],
      ['redis-server', '/run/redis/redis-server.pid'],
      ['redis-sentinel', '/run/sentinel/redis-sentinel.pid'],
    ]) {
      if (!missing.includes(name) || !existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 1) {
        const [cmd, ...rest] = asRoot(['kill', String(pid)]);
        await run(cmd, rest, { stdio: 'ignore' });
      }
    }
  }
  const after = locateSystemBinaries(env);
  const still = [
    ...SYSTEM_PACKAGES.filter((name) => !after[name]),
    ...extra.filter((x) => !x.present(env)).map((x) => x.pkg),
  ];
  if (still.length > 0) throw new BootstrapError(`apt-get finished but ${still.join(', ')} is still not found`);
  return after;
}

function serviceName(pkg) {
  return pkg === 'redis-server' ? 'redis-server' : pkg;
}

// ---------------------------------------------------------------------------------------------
// Step 4: workspace install

function workspaceManifests() {
  const files = ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'];
  for (const group of ['apps', 'packages']) {
    const dir = join(REPO_ROOT, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const manifest = join(group, name, 'package.json');
      if (existsSync(join(REPO_ROOT, manifest))) files.push(manifest);
    }
  }
  return files;
}

/** A digest of everything that decides what `pnpm install` would do. */
export function installFingerprint(env = process.env) {
  const hash = createHash('sha256');
  for (const file of workspaceManifests()) {
    hash.update(file).update('\0');
    const path = join(REPO_ROOT, file);
    if (existsSync(path)) hash.update(readFileSync(path));
    hash.update('\0');
  }
  hash.update(
    `node ${process.versions.node.split('.')[0]}; ort ${env.ONNXRUNTIME_NODE_INSTALL ?? ''}; ci ${isCi(env)}`,
  );
  return hash.digest('hex');
}

function isCi(env = process.env) {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

export async function installDependencies({ pnpmDir, env = process.env, force = false } = {}) {
  const installEnv = { ...env };
  // onnxruntime-node's postinstall would download the CUDA provider otherwise; images built for
  // GPUs opt in explicitly (see deploy/docker/worker.Dockerfile).
  if (installEnv.ONNXRUNTIME_NODE_INSTALL === undefined) installEnv.ONNXRUNTIME_NODE_INSTALL = 'skip';
  const fingerprint = installFingerprint(installEnv);
  if (
    !force &&
    existsSync(join(REPO_ROOT, 'node_modules', '.modules.yaml')) &&
    existsSync(INSTALL_STAMP) &&
    readFileSync(INSTALL_STAMP, 'utf8').trim() === fingerprint
  ) {
    log('dependencies up to date');
    return false;
  }
  const args = ['install'];
  if (isCi(env)) args.push('--frozen-lockfile');
  log(`pnpm ${args.join(' ')}`);
  await runOrThrow(join(pnpmDir, 'pnpm'), args, { env: { ...installEnv, PATH: withPath(pnpmDir, installEnv.PATH) } });
  writeFileSync(INSTALL_STAMP, `${fingerprint}\n`);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Step 5: build

export function withPath(dir, pathValue = process.env.PATH ?? '') {
  return pathValue.split(delimiter).includes(dir) ? pathValue : `${dir}${delimiter}${pathValue}`;
}

/** `turbo run build` over the workspace. With `keepGoing`, every package that can build does. */
export async function build({ pnpmDir, env = process.env, keepGoing = false } = {}) {
  const turbo = join(REPO_ROOT, 'node_modules', '.bin', 'turbo');
  if (!existsSync(turbo)) throw new BootstrapError('turbo is not installed; the workspace install did not complete');
  const args = ['run', 'build', '--output-logs=errors-only'];
  if (keepGoing) args.push('--continue');
  log(`turbo ${args.join(' ')}`);
  const code = await run(turbo, args, {
    env: {
      ...env,
      PATH: withPath(pnpmDir, env.PATH),
      TURBO_TELEMETRY_DISABLED: '1',
      DO_NOT_TRACK: '1',
      TURBO_NO_UPDATE_NOTIFIER: '1',
    },
  });
  if (code !== 0) throw new BootstrapError(`the build failed (turbo exit code ${code}); the errors are above`);
}

// ---------------------------------------------------------------------------------------------
// Step 6: models

export const MODEL_ZOO_CLI = join(REPO_ROOT, 'packages', 'model-zoo', 'dist', 'cli.js');
export const QUANTIZE_CLI = join(REPO_ROOT, 'packages', 'quantize', 'dist', 'cli.js');

export async function prepareModels({ dir = MODELS_DIR, env = process.env } = {}) {
  if (!existsSync(MODEL_ZOO_CLI)) {
    throw new BootstrapError(`the model-zoo CLI is not built (${MODEL_ZOO_CLI} is missing); run the build first`);
  }
  mkdirSync(dir, { recursive: true });
  log(`models → ${dir}`);
  await runOrThrow(process.execPath, [MODEL_ZOO_CLI, dir], { env });
  // Version 2 (INT8) of the demo models, from the version 1 just written; a no-op when unchanged.
  await runOrThrow(process.execPath, [QUANTIZE_CLI, '--prepare', '--repository', dir], { env });
  return dir;
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs the steps in order. Options: system, install, build, models (booleans, default true),
 * testPackages (also install what only the tests need),
 * forceInstall, keepGoing (build every package that can be built and report failures at the
 * end instead of stopping), quiet.
 * Resolves with { pnpmDir, binaries, modelsDir, env, failures } where `env` is process.env with
 * pnpm on PATH, and `failures` lists the steps that failed under keepGoing.
 */
export async function bootstrap(options = {}) {
  const opts = { system: true, install: true, build: true, models: true, keepGoing: false, ...options };
  quiet = Boolean(opts.quiet);
  const failures = [];
  const attempt = async (name, fn) => {
    try {
      return await fn();
    } catch (error) {
      if (!opts.keepGoing || !(error instanceof BootstrapError)) throw error;
      log(`${name} failed: ${error.message}`);
      failures.push({ step: name, error });
      return undefined;
    }
  };

  checkNode();
  mkdirSync(RUN_DIR, { recursive: true });
  const pnpmDir = await ensurePnpm();
  const env = { ...process.env, PATH: withPath(pnpmDir, process.env.PATH) };
  const binaries = opts.system
    ? await ensureSystemPackages(env, opts.testPackages ? TEST_PACKAGES : MODEL_PACKAGES)
    : locateSystemBinaries(env);
  if (opts.install) await installDependencies({ pnpmDir, env, force: opts.forceInstall });
  if (opts.build) await attempt('build', () => build({ pnpmDir, env, keepGoing: opts.keepGoing }));
  let modelsDir;
  if (opts.models) modelsDir = await attempt('models', () => prepareModels({ env }));
  return { pnpmDir, binaries, modelsDir, env, failures };
}

async function main(argv) {
  const flags = ['models-only', 'no-system', 'no-install', 'no-build', 'no-models', 'force-install', 'quiet', 'help'];
  const usage = `usage: node scripts/bootstrap.mjs [--${flags.join('] [--')}]\n`;
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: Object.fromEntries(flags.map((f) => [f, { type: 'boolean' }])) }));
  } catch (error) {
    process.stderr.write(`${error.message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stderr.write(usage);
    return 0;
  }
  const has = (flag) => values[flag.slice(2)] === true;
  if (has('--models-only')) {
    checkNode();
    quiet = has('--quiet');
    await prepareModels();
    return 0;
  }
  await bootstrap({
    system: !has('--no-system'),
    install: !has('--no-install'),
    build: !has('--no-build'),
    models: !has('--no-models'),
    forceInstall: has('--force-install'),
    quiet: has('--quiet'),
  });
  log('ready');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(
        `[bootstrap] ${error instanceof BootstrapError ? error.message : (error?.stack ?? error)}\n`,
      );
      process.exit(1);
    },
  );
}
