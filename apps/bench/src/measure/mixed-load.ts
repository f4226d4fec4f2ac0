import { cp, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { startFullStack, type Target } from '../contenders/start.js';
import { modelInput, type ModelInput } from './inputs.js';
import { measureStep, requestsOf, settle } from './measure-step.js';
import type { BenchOptions, StepResult } from '../types.js';

/** The interactive model measured at one client, alone and while the heavy one is flooded. */
export const SMALL = 'lid176';
export const HEAVY = 'ocr-rec';
export const FLOOD_CLIENTS = 32;
/** Alone/flood pairs per layout, measured in turns so a slow spell of the host hits both. */
const ROUNDS = 2;

/** One layout of workers and instances that the mixed-load step measures. */
interface Layout {
  name: string;
  what: string;
  /** config.json fields to set per model (in a copy of the repository). */
  configs?: Record<string, Record<string, unknown>>;
  /** Models per worker; absent: one worker serving both. */
  pools?: string[][];
}

const LAYOUTS: Layout[] = [
  { name: 'default', what: 'one worker, default config' },
  {
    name: 'two-instances',
    what: `one worker, ${HEAVY} with instance_group count 2`,
    configs: { [HEAVY]: { instance_group: [{ count: 2, kind: 'KIND_AUTO' }] } },
  },
  { name: 'pools', what: `a worker for ${SMALL} and a worker for ${HEAVY}`, pools: [[SMALL], [HEAVY]] },
];

export interface MixedRow {
  layout: string;
  round: number;
  /** lid176 at one client: alone, or during the flood. */
  phase: 'alone' | 'flood';
  smallP50Ms: number;
  smallP99Ms: number;
  smallErrors: number;
  /** ocr-rec items per second at 32 clients: alone (phase alone), or with lid176 beside it. */
  heavyItemsPerS: number;
  /** ocr-rec's mean batch size in the same step (worker metrics; null when none were read). */
  heavyMeanBatch: number | null;
  /** ocr-rec's batch cap (per instance 0) at the end of the step, as the tuner left it. */
  heavyCapAtEnd: number | null;
  /**
   * CPU per answered lid176 request, in ms, by process (and `loadgen`, the client), from the
   * lid176-alone step: what one interactive client costs the machine beside the flood.
   */
  smallCpuMsPerRequest?: Record<string, number>;
}

/** CPU ms per answered request of a step, by watched process and for the load generator. */
function cpuPerRequest(s: StepResult): Record<string, number> {
  const n = Math.max(1, s.load.ok);
  const out: Record<string, number> = {};
  for (const p of s.processes) out[p.name] = (out[p.name] ?? 0) + (p.cpuS * 1000) / n;
  out.loadgen = (s.load.loadgenCpuS * 1000) / n;
  return out;
}

/** A copy of the repository (21 MB for the shipped models) with some config.json fields changed. */
async function repositoryWith(
  source: string,
  dir: string,
  configs: Record<string, Record<string, unknown>>,
): Promise<string> {
  await cp(source, dir, { recursive: true });
  for (const [model, fields] of Object.entries(configs)) {
    const file = join(dir, model, 'config.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...config, ...fields }, null, 2));
  }
  return dir;
}

function step(
  target: Target,
  model: string,
  input: ModelInput,
  concurrency: number,
  durationS: number,
): Promise<StepResult> {
  return measureStep({
    target,
    ...requestsOf(model, input),
    binary: input.binary,
    concurrency,
    durationS,
    warmupS: 0,
  });
}

async function measureLayout(
  layout: Layout,
  opts: BenchOptions,
  inputs: Map<string, ModelInput>,
  log: (line: string) => void,
): Promise<MixedRow[]> {
  const repository = layout.configs
    ? await repositoryWith(opts.modelRepository, join(opts.outDir, 'repository', layout.name), layout.configs)
    : opts.modelRepository;
  const target = await startFullStack({
    models: [SMALL, HEAVY],
    modelRepository: repository,
    intraOpThreads: opts.intraOpThreads,
    replicas: opts.replicas,
    logDir: join(opts.outDir, 'logs', `mixed-${layout.name}`),
    verbose: opts.verbose,
    env: { AUTH: 'on', RATE_LIMIT: '100000000', RESPONSE_CACHE: 'on' },
    ...(layout.pools ? { pools: layout.pools } : {}),
  });
  const small = inputs.get(SMALL)!;
  const heavy = inputs.get(HEAVY)!;
  const rows: MixedRow[] = [];
  try {
    if (opts.warmupS > 0) {
      await Promise.all([
        step(target, HEAVY, heavy, 8, opts.warmupS * 2),
        step(target, SMALL, small, 1, opts.warmupS * 2),
      ]).catch(() => undefined);
      await settle(target);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const heavyAlone = await step(target, HEAVY, heavy, FLOOD_CLIENTS, opts.durationS);
      const smallAlone = await step(target, SMALL, small, 1, opts.durationS);
      // Both load generators run for the same seconds; the flood starts first so that the
      // interactive requests meet a full queue.
      const [heavyFlood, smallFlood] = await Promise.all([
        step(target, HEAVY, heavy, FLOOD_CLIENTS, opts.durationS + 1),
        new Promise((r) => setTimeout(r, 1000)).then(() => step(target, SMALL, small, 1, opts.durationS - 1)),
      ]);
      for (const [phase, s, h] of [
        ['alone', smallAlone, heavyAlone],
        ['flood', smallFlood, heavyFlood],
      ] as const) {
        // No answer at all within the step leaves the percentiles empty (null): NaN in the table.
        const row: MixedRow = {
          layout: layout.name,
          round,
          phase,
          smallP50Ms: s.load.latencyMs.p50 ?? NaN,
          smallP99Ms: s.load.latencyMs.p99 ?? NaN,
          smallErrors: s.load.non2xx + s.load.errors,
          heavyItemsPerS: h.itemsPerS,
          heavyMeanBatch: h.batches?.meanSize ?? null,
          heavyCapAtEnd: h.batches?.capAtEnd ?? null,
          ...(phase === 'alone' ? { smallCpuMsPerRequest: cpuPerRequest(s) } : {}),
        };
        rows.push(row);
        log(
          `mixed ${layout.name.padEnd(13)} round ${round} ${phase.padEnd(5)} ${SMALL} p50 ${row.smallP50Ms.toFixed(1)} p99 ${row.smallP99Ms.toFixed(1)} ms (${s.load.ok} answered, err ${row.smallErrors}); ${HEAVY} ${row.heavyItemsPerS.toFixed(1)} items/s, mean batch ${row.heavyMeanBatch?.toFixed(1) ?? '?'} (cap ${row.heavyCapAtEnd ?? '?'})${
            row.smallCpuMsPerRequest
              ? `; CPU ms per ${SMALL} request ${Object.entries(row.smallCpuMsPerRequest)
                  .map(([k, v]) => `${k} ${v.toFixed(2)}`)
                  .join(', ')}`
              : ''
          }`,
        );
      }
    }
  } finally {
    await target.stop().catch((err: unknown) => log(`stop: ${(err as Error).message}`));
  }
  return rows;
}

/** Markdown table of every round, then the targets per layout over the worst round. */
export function mixedMarkdown(rows: readonly MixedRow[], command: string): string {
  const cpu = cpus();
  const lines = [
    `Host: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}; command: \`${command}\`.`,
    '',
    `| layout | round | ${SMALL} at 1 client | p50 ms | p99 ms | ${HEAVY} items/s at ${FLOOD_CLIENTS} clients |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.layout} | ${r.round} | ${r.phase === 'alone' ? 'alone' : `during the ${HEAVY} flood`} | ${r.smallP50Ms.toFixed(1)} | ${r.smallP99Ms.toFixed(1)} | ${r.heavyItemsPerS.toFixed(1)}${r.phase === 'alone' ? ' (alone)' : ''} |`,
    ),
    '',
  ];
  for (const layout of new Set(rows.map((r) => r.layout))) {
    const of = rows.filter((r) => r.layout === layout);
    const flood = of.filter((r) => r.phase === 'flood');
    const alone = of.filter((r) => r.phase === 'alone');
    const ratio = flood.map((f) => f.heavyItemsPerS / (alone.find((a) => a.round === f.round)?.heavyItemsPerS ?? NaN));
    const p50 = Math.max(...flood.map((f) => f.smallP50Ms));
    const p99 = Math.max(...flood.map((f) => f.smallP99Ms));
    lines.push(
      `- ${layout}: during the flood ${SMALL} p50 ≤ ${p50.toFixed(1)} ms (target 30), p99 ≤ ${p99.toFixed(1)} ms (target 100); ${HEAVY} kept ${ratio.map((x) => `${x.toFixed(2)}×`).join(', ')} of its throughput alone (target 0.9×)`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The mixed-load step of `npm run bench -- --mixed`: every layout, in turns, ROUNDS times. */
export async function runMixed(opts: BenchOptions, log: (line: string) => void): Promise<MixedRow[]> {
  const repository = await loadRepository(opts.modelRepository);
  const inputs = new Map<string, ModelInput>();
  for (const name of [SMALL, HEAVY]) {
    const spec: ModelSpec | undefined = repository.get(name);
    if (!spec) throw new Error(`${name} is not in the model repository ${opts.modelRepository}`);
    inputs.set(name, await modelInput(spec));
  }
  const wanted = opts.mixed && opts.mixed.length > 0 ? opts.mixed : LAYOUTS.map((l) => l.name);
  const unknown = wanted.filter((w) => !LAYOUTS.some((l) => l.name === w));
  if (unknown.length > 0)
    throw new Error(`--mixed: unknown layout ${unknown.join(', ')} (${LAYOUTS.map((l) => l.name).join(', ')})`);
  const rows: MixedRow[] = [];
  for (const layout of LAYOUTS.filter((l) => wanted.includes(l.name))) {
    log(`mixed ${layout.name}: ${layout.what}`);
    rows.push(...(await measureLayout(layout, opts, inputs, log)));
  }
  return rows;
}
