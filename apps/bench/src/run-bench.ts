import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { modelKey, type ModelSpec } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import type { CeilingJob } from './contenders/ceiling-main.js';
import { childJob } from './measure/child-job.js';
import { startFullStack, startSeed, type Target } from './contenders/start.js';
import { startFloor } from './contenders/floor-start.js';
import { modelInput, type ModelInput } from './measure/inputs.js';
import { measureStep, requestsOf, type StepSpec } from './measure/measure-step.js';
import { cpuSnapshot, waitQuiet } from './measure/proc-stats.js';
import { loadgenCpus, pin } from './contenders/pin.js';
import { scalingChecks, type Calibration } from './report/scaling-check.js';
import { markdownReport } from './report/report-md.js';
import { svgChart } from './report/report-svg.js';
import { evaluateTargets } from './report/targets.js';
import {
  FRONT_DOORS,
  type BenchOptions,
  type BenchReport,
  type CeilingResult,
  type ServedContender,
  type StepResult,
} from './types.js';
import { splitModel } from './contenders/model-version.js';

export type Log = (line: string) => void;

/**
 * What the services run with, unless the bench's own environment says otherwise: as users run
 * them, with API keys (the full stack's requests carry a bearer key), rate limiting on with a
 * limit far above what the load generator sends (it counts every request, it never refuses one),
 * and the response cache on. Every measured request carries a different input, so the cache is
 * consulted and misses; one extra step with identical requests shows cache hits, apart.
 */
export const SERVICE_DEFAULTS: Readonly<Record<string, string>> = {
  AUTH: 'on',
  RATE_LIMIT: '100000000',
  RESPONSE_CACHE: 'on',
};

/** The model and the clients of the step where every request is the same (response cache hits). */
export function cacheHitStep(
  models: readonly string[],
  concurrency: readonly number[],
): { model: string; concurrency: number } | undefined {
  const model = models.includes('lid176') ? 'lid176' : models[0];
  if (!model || concurrency.length === 0) return undefined;
  return { model, concurrency: Math.min(64, Math.max(...concurrency)) };
}

function serviceEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(SERVICE_DEFAULTS).map(([k, v]) => [k, env[k] ?? v]));
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function stepLine(s: StepResult): string {
  const l = s.load.latencyMs;
  const err = s.load.non2xx + s.load.errors;
  const cpu = s.processes.map((p) => `${p.name} ${f(p.cpuSPer1kRequests ?? Number.NaN, 2)}`).join(', ');
  const rss = s.processes.map((p) => `${p.name} ${f(p.peakRssMb, 0)}`).join(', ');
  const batch =
    s.batches?.meanSize != null ? ` batch mean ${f(s.batches.meanSize)} cap ${s.batches.capAtEnd ?? '?'}` : '';
  return `${s.contender.padEnd(4)} ${s.model.padEnd(8)} c=${String(s.concurrency).padEnd(3)} ${f(s.itemsPerS).padStart(8)} items/s  p50 ${f(l.p50, 2)} p90 ${f(l.p90, 2)} p99 ${f(l.p99, 2)} ms  err ${err}${batch} | CPU s/1k req: ${cpu} | peak RSS MB: ${rss}`;
}

async function ceiling(spec: ModelSpec, input: ModelInput, opts: BenchOptions): Promise<CeilingResult> {
  const job: CeilingJob = {
    model: spec.name,
    file: spec.file,
    tensors: input.tensors,
    batchSizes: opts.ceilingBatchSizes,
    secondsPerSize: opts.ceilingSecondsPerSize,
    intraOpThreads: opts.intraOpThreads,
  };
  // Generous: a slow model still does at least three runs per size.
  const timeoutMs = (opts.ceilingBatchSizes.length * (opts.ceilingSecondsPerSize + 30) + 60) * 1000;
  return childJob<CeilingJob, CeilingResult>(new URL('./contenders/ceiling-main.js', import.meta.url), job, {
    timeoutMs,
    cpus: opts.cpus,
  });
}

/**
 * How a contender is sent a model's request: the full stack and the floor the binary tensor
 * extension (as a Triton client sends tensors), `grpc` ModelInfer with raw contents; the seed (built as the
 * article builds it, it reads JSON only) and `json` JSON.
 */
function frontDoor(name: ServedContender, input: ModelInput, batched: boolean): Pick<StepSpec, 'binary' | 'grpc'> {
  if (name === 'full' || name === 'floor') return { binary: input.binary };
  if (name === 'grpc') return { grpc: { tensors: input.tensors, batched } };
  return {};
}

async function warmUp(
  target: Target,
  model: string,
  input: ModelInput,
  door: Pick<StepSpec, 'binary' | 'grpc'>,
  seconds: number,
): Promise<void> {
  await measureStep({
    target,
    ...requestsOf(model, input),
    ...door,
    concurrency: 8,
    durationS: seconds,
    warmupS: 0,
  }).catch(() => undefined);
}

export async function runBench(opts: BenchOptions, log: Log): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const repository = await loadRepository(opts.modelRepository);
  const specs: ModelSpec[] = [];
  const inputs = new Map<string, ModelInput>();
  // With --versions each model is measured at each version, named 'model@version' throughout.
  const measured =
    opts.versions.length === 0
      ? opts.models
      : opts.models.flatMap((m) => opts.versions.map((v) => modelKey({ name: m, version: v })));
  if (opts.versions.length > 0 && opts.contenders.includes('seed'))
    notes.push('--versions: the seed and the floor serve one version per model and were not run');
  for (const name of measured) {
    const { name: model, version } = splitModel(name);
    const found = repository.get(model, version);
    const spec = found && version ? { ...found, name } : found;
    if (!spec) {
      const note = `${name}: not in the model repository ${opts.modelRepository}; skipped (prepare it and run again)`;
      notes.push(note);
      log(`note: ${note}`);
      continue;
    }
    specs.push(spec);
    const input = await modelInput(found!); // inputs are chosen by the model's name, whatever the version
    inputs.set(name, input);
    const kib = (n: number) => (n < 10_240 ? `${n} bytes` : `${(n / 1024).toFixed(0)} KiB`);
    notes.push(
      `${name}: each request carries 1 item: ${input.description}; two of its values differ in every request. The seed is sent ${kib(input.body.length)} of JSON; the full stack the binary tensor extension (${kib(input.binary.headerLength)} JSON header + ${kib(input.binary.bytes)} of tensor bytes), asking for binary outputs`,
    );
  }
  const models = specs.map((s) => s.name);
  const svc = serviceEnv();
  if (opts.replicas !== 3)
    notes.push(
      `the full stack ran ${opts.replicas} API replica${opts.replicas === 1 ? '' : 's'}; the targets are set for three`,
    );
  notes.push(
    `services ran with ${Object.entries(svc)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )} (RATE_LIMIT per minute) and LOG_LEVEL=${process.env.LOG_LEVEL ?? 'warn'}; ${svc.AUTH === 'off' ? 'no API key' : 'full-stack requests carry a bearer API key'}; unique inputs, so the response cache misses`,
  );
  const ceilings: CeilingResult[] = [];
  const steps: StepResult[] = [];

  if (opts.contenders.includes('ceiling')) {
    for (const spec of specs) {
      log(
        `ceiling ${spec.name}: session.run in a loop at batch ${opts.ceilingBatchSizes.join(', ')} (${+opts.ceilingSecondsPerSize.toFixed(2)} s each)`,
      );
      try {
        const c = await ceiling(spec, inputs.get(spec.name)!, opts);
        ceilings.push(c);
        log(
          `ceil ${spec.name.padEnd(8)} best ${f(c.best.itemsPerS)} items/s at batch ${c.best.batchSize}; batch 1: ${f(c.batch1P50Ms, 3)} ms per run (p50)`,
        );
      } catch (err) {
        const note = `ceiling ${spec.name} failed: ${(err as Error).message}`;
        notes.push(note);
        log(note);
      }
    }
  }

  // Both contenders run side by side and are measured in turns, step by step (the other one
  // idles meanwhile), so that a slow spell of a shared machine hits both rather than one.
  const starters = { seed: startSeed, full: startFullStack, floor: startFloor } as const;
  const targets: [name: ServedContender, target: Target][] = [];
  const running: [name: 'seed' | 'full' | 'floor', target: Target][] = [];
  const doors = FRONT_DOORS.filter((d) => opts.contenders.includes(d));
  const loadgen = loadgenCpus(opts.cpus, cpus().length);
  if (doors.includes('grpc'))
    notes.push(
      "grpc: ModelInfer through nginx's gRPC port with the SDK's GrpcInferenceClient (raw input contents, no retries), one HTTP/2 connection per client; json: the full stack sent the same JSON as the seed",
    );
  if (opts.cpus)
    notes.push(
      `the services and the ceiling ran on CPU ${opts.cpus.join(',')} only (taskset); the load generator ${loadgen ? `on CPU ${loadgen.join(',')}` : 'shared them'}`,
    );
  const batched = new Map(specs.map((s) => [s.name, s.maxBatchSize > 0]));
  try {
    for (const name of (['seed', 'full', 'floor'] as const).filter(
      (c) =>
        (opts.contenders.includes(c) || (c === 'full' && doors.length > 0)) &&
        !(c !== 'full' && opts.versions.length > 0),
    )) {
      if (models.length === 0) break;
      log(
        `${name}: starting (${name === 'seed' ? 'one Express process' : `redis, worker, ${opts.replicas} API replica${opts.replicas === 1 ? '' : 's'}, nginx`})`,
      );
      try {
        const started = await starters[name]({
          models,
          modelRepository: opts.modelRepository,
          intraOpThreads: opts.intraOpThreads,
          replicas: opts.replicas,
          logDir: join(opts.outDir, 'logs', name),
          verbose: opts.verbose,
          env: serviceEnv(),
        });
        running.push([name, started]);
        if (opts.cpus)
          pin(
            cpuSnapshot(started.watched).flatMap((s) => s.pids),
            opts.cpus,
          );
        if (opts.contenders.includes(name)) targets.push([name, started]);
        // The other front doors are measured on the same stack, in turns with it.
        if (name === 'full') for (const door of doors) targets.push([door, { ...started, name: door }]);
      } catch (err) {
        const note = `${name} did not start: ${(err as Error).message}`;
        notes.push(note);
        log(note);
      }
    }
    // Every contender first serves each model for a while, unmeasured: code paths compiled,
    // sessions and connections warm, before the first measured step of any model.
    if (opts.warmupS > 0) {
      for (const [name, target] of targets) {
        for (const model of models)
          await warmUp(
            target,
            model,
            inputs.get(model)!,
            frontDoor(name, inputs.get(model)!, batched.get(model)!),
            opts.warmupS * 2,
          );
        await waitQuiet(target.watched);
      }
    }
    for (const model of models) {
      const input = inputs.get(model)!;
      for (const concurrency of opts.concurrency) {
        for (const [name, target] of targets) {
          try {
            const s = await measureStep({
              target,
              ...requestsOf(model, input),
              ...frontDoor(name, input, batched.get(model)!),
              loadgenCpus: loadgen,
              concurrency,
              durationS: opts.durationS,
              warmupS: opts.warmupS,
            });
            steps.push(s);
            log(stepLine(s));
          } catch (err) {
            const note = `${name} ${model} at ${concurrency} clients failed: ${(err as Error).message}`;
            notes.push(note);
            log(note);
          }
          // What it accepted before the clients stopped is still computed: not in the next step.
          const waited = await waitQuiet(target.watched);
          if (waited > 1) log(`${name}: ${waited.toFixed(1)} s to finish the requests it had accepted`);
        }
      }
    }
    const full = running.find(([name]) => name === 'full')?.[1];
    const hits = full && svc.RESPONSE_CACHE !== 'off' ? cacheHitStep(models, opts.concurrency) : undefined;
    if (full && hits) {
      const input = inputs.get(hits.model)!;
      try {
        const s = await measureStep({
          target: full,
          model: hits.model,
          body: input.body,
          itemsPerRequest: input.items,
          concurrency: hits.concurrency,
          durationS: opts.durationS,
          warmupS: opts.warmupS,
          loadgenCpus: loadgen,
        });
        steps.push(s);
        log(`${stepLine(s)} (identical requests: response cache hits)`);
      } catch (err) {
        const note = `cache-hit step failed: ${(err as Error).message}`;
        notes.push(note);
        log(note);
      }
    }
  } finally {
    for (const [name, target] of running)
      await target.stop().catch((err: unknown) => log(`${name}: stop: ${(err as Error).message}`));
  }

  if (steps.some((s) => s.load.statusCodes['429'] || s.load.statusCodes['401'])) {
    notes.push('some answers were 401/429: the API key or the rate limit refused requests (see the logs)');
  }
  const cpu = cpus();
  const scaling =
    opts.cpus || opts.calibration
      ? scalingChecks(
          { steps, ceilings },
          {
            cores: opts.cpus?.length ?? cpu.length,
            replicas: opts.replicas,
            workers: 1,
            nginxWorkers: 1,
            loadgenShares: loadgen === undefined,
          },
          opts.calibration ? readCalibration(opts.calibration) : undefined,
        )
      : undefined;
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    host: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryGb: totalmem() / 2 ** 30,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    },
    options: {
      models: opts.models,
      versions: opts.versions,
      concurrency: opts.concurrency,
      contenders: opts.contenders,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      ceilingSecondsPerSize: opts.ceilingSecondsPerSize,
      ceilingBatchSizes: opts.ceilingBatchSizes,
      intraOpThreads: opts.intraOpThreads,
      replicas: opts.replicas,
      modelRepository: opts.modelRepository,
      verbose: opts.verbose,
      ...(opts.cpus ? { cpus: opts.cpus } : {}),
      ...(opts.calibration ? { calibration: opts.calibration } : {}),
    },
    notes,
    ceilings,
    steps,
    targets: evaluateTargets(ceilings, steps),
    ...(scaling ? { scaling } : {}),
  };
}

function readCalibration(path: string): Calibration {
  const report = JSON.parse(readFileSync(path, 'utf8')) as BenchReport;
  return { source: path, steps: report.steps, ceilings: report.ceilings };
}

/** Writes report.json, report.md and chart.svg; returns their paths. */
export function writeReport(report: BenchReport, outDir: string): { json: string; markdown: string; svg: string } {
  mkdirSync(outDir, { recursive: true });
  const paths = {
    json: join(outDir, 'report.json'),
    markdown: join(outDir, 'report.md'),
    svg: join(outDir, 'chart.svg'),
  };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.markdown, markdownReport(report));
  writeFileSync(paths.svg, svgChart(report));
  return paths;
}
