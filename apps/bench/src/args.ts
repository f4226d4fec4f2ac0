import { join, resolve } from 'node:path';
import { parseArgs as parseArgv } from 'node:util';
import { CONTENDERS, type BenchOptions, type ContenderName } from './types.js';

export const DEFAULT_MODELS = ['cost', 'ocr-rec', 'lid176'];
export const DEFAULT_CONCURRENCY = [1, 8, 64, 256];

export const USAGE = `usage: npm run bench -- [options]

  --models a,b            models to measure (${DEFAULT_MODELS.join(',')})
  --versions 1,2          measure each model at each of these versions (as model@version; the
                          full stack and the ceiling: the seed knows no versions). Default: each
                          model's default version
  --concurrency 1,8,...   closed-loop clients per step (${DEFAULT_CONCURRENCY.join(',')})
  --contenders a,b        any of ${CONTENDERS.join(',')} (all)
  --duration S            measured seconds per step (10)
  --warmup S              unmeasured seconds of load before each step (2)
  --ceiling-seconds S     seconds per batch size in the in-process sweep (min(3, duration/3))
  --ceiling-sizes 1,2,..  batch sizes of the in-process sweep (1,2,4,8,16,32,64)
  --threads N             ONNX Runtime intra-op threads, every contender (INTRA_OP_THREADS or 1)
  --replicas N            API replicas of the full stack (3, as the targets assume)
  --cpus 0,1              run the services (and the ceiling) on these CPUs only (taskset -a);
                          the load generator then runs on the other CPUs, or shares these when
                          there are no others. The report predicts each full-stack step from
                          the scaling model (docs/benchmarks.md) next to its measurement
  --calibration FILE      the report.json of an earlier run whose CPU per request per process
                          the scaling model predicts from (this run's own, without it)
  --repository DIR        model repository (MODEL_REPOSITORY or .run/models)
  --out DIR               output directory (bench-results/<timestamp>)
  --verbose               copy the services' logs to the console
  --mixed[=layouts]       only the mixed-load step: lid176 at 1 client alone and during a
                          32-client ocr-rec flood, in turns, per layout: default (one worker,
                          default config), two-instances (ocr-rec count 2), pools (a worker per
                          model); all three unless listed

Environment: the services run with AUTH=on (full-stack requests carry a key), RATE_LIMIT=100000000
(counted, never binding), RESPONSE_CACHE=on and LOG_LEVEL=warn unless set; every request's input
differs so the cache misses, and one extra step of identical requests shows cache hits. Every other variable (BATCH_TUNING, OOM_GROW_AFTER, ...) reaches them as is.
SKIP_BOOTSTRAP=1 skips install and build.
`;

export class UsageError extends Error {}

function list(value: string, what: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${what} needs at least one value`);
  return items;
}

function positiveInts(value: string, what: string): number[] {
  return list(value, what).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what}: "${s}" is not a positive integer`);
    return n;
  });
}

function positive(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what}: "${value}" is not a positive number`);
  return n;
}

/** A CPU list as taskset takes it: CPU numbers (not ranges), each at most once. */
function cpuList(value: string): number[] {
  const cpus = list(value, '--cpus').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--cpus: "${s}" is not a CPU number`);
    return n;
  });
  if (new Set(cpus).size !== cpus.length) throw new UsageError('--cpus: a CPU is named twice');
  return cpus;
}

function nonNegative(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${what}: "${value}" is not a number >= 0`);
  return n;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

/** The options as `node:util`'s parseArgs reads them; --mixed alone means every layout. */
const OPTIONS = {
  models: { type: 'string' },
  versions: { type: 'string' },
  concurrency: { type: 'string' },
  contenders: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  'ceiling-seconds': { type: 'string' },
  'ceiling-sizes': { type: 'string' },
  threads: { type: 'string' },
  replicas: { type: 'string' },
  cpus: { type: 'string' },
  calibration: { type: 'string' },
  repository: { type: 'string' },
  out: { type: 'string' },
  mixed: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** node:util's parse errors in this CLI's words. */
function usageError(err: unknown): UsageError {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const named = /'(-[^' ]*|[^']*)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option ${named}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new UsageError(`${named} needs a value`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new UsageError(`unexpected argument "${named}"`);
  return new UsageError(message);
}

function readArgv(argv: readonly string[]) {
  try {
    // parseArgs has no optional values: a bare --mixed is passed on as an empty list.
    const args = argv.map((a) => (a === '--mixed' ? '--mixed=' : a));
    return parseArgv({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw usageError(err);
  }
}

/** Parses the command line; `env` supplies INTRA_OP_THREADS and MODEL_REPOSITORY defaults. */
export function parseArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  now = new Date(),
): BenchOptions {
  const values = readArgv(argv);
  if (values.help) throw new UsageError('');
  const mixed = values.mixed === undefined ? undefined : values.mixed === '' ? [] : list(values.mixed, '--mixed');
  const verbose = values.verbose ?? false;
  if (mixed && values.cpus !== undefined) throw new UsageError('--cpus applies to the contenders, not to --mixed');
  const contenders = values.contenders !== undefined ? list(values.contenders, '--contenders') : [...CONTENDERS];
  for (const c of contenders)
    if (!(CONTENDERS as readonly string[]).includes(c))
      throw new UsageError(`--contenders: unknown "${c}" (${CONTENDERS.join(', ')})`);
  const durationS = values.duration !== undefined ? positive(values.duration, '--duration') : 10;
  const threads = values.threads ?? env.INTRA_OP_THREADS ?? '1';
  const intraOpThreads = positiveInts(threads, '--threads')[0]!;
  return {
    models: values.models !== undefined ? list(values.models, '--models') : [...DEFAULT_MODELS],
    versions: values.versions !== undefined ? positiveInts(values.versions, '--versions').map(String) : [],
    concurrency:
      values.concurrency !== undefined ? positiveInts(values.concurrency, '--concurrency') : [...DEFAULT_CONCURRENCY],
    contenders: CONTENDERS.filter((c) => contenders.includes(c)) as ContenderName[],
    durationS,
    warmupS: values.warmup !== undefined ? nonNegative(values.warmup, '--warmup') : 2,
    ceilingSecondsPerSize:
      values['ceiling-seconds'] !== undefined
        ? positive(values['ceiling-seconds'], '--ceiling-seconds')
        : Math.min(3, durationS / 3),
    ceilingBatchSizes:
      values['ceiling-sizes'] !== undefined
        ? positiveInts(values['ceiling-sizes'], '--ceiling-sizes')
        : [1, 2, 4, 8, 16, 32, 64],
    intraOpThreads,
    replicas: values.replicas !== undefined ? positiveInts(values.replicas, '--replicas')[0]! : 3,
    modelRepository: resolve(cwd, values.repository ?? env.MODEL_REPOSITORY ?? join('.run', 'models')),
    outDir: resolve(cwd, values.out ?? join('bench-results', timestamp(now))),
    verbose,
    ...(mixed ? { mixed } : {}),
    ...(values.cpus !== undefined ? { cpus: cpuList(values.cpus) } : {}),
    ...(values.calibration !== undefined ? { calibration: resolve(cwd, values.calibration) } : {}),
  };
}
