#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { catalogue } from '@tessera/model-zoo';
import { calibrationInputs, syntheticInputs, type CalibrationSet } from './calibration-inputs.js';
import type { CalibrationMethod } from './calibrate.js';
import { prepareQuantizedVersions } from './prepare-versions.js';
import { quantizeInRepository } from './quantize-in-repository.js';
import type { QuantizeMode } from './quantize-model.js';
import { formatReport } from './report.js';
import { readFile } from 'node:fs/promises';

const USAGE = `usage: npm run quantize -- <model> [--mode dynamic|static|fp16] [--per-channel]
         [--calibration minmax|percentile[:Q]] [--samples N] [--from V] [--version V] [--repository DIR]
         [--op-types MatMul,Conv] [--exclude NODE,NODE] [--uint8-conv-weights]
       npm run quantize -- --prepare [--repository DIR]   (the zoo's quantized versions, as bootstrap makes them)

Writes a new version directory into the model repository (default .run/models): model.onnx and
quantization.json. Calibration inputs come from the project's generators for the zoo's models
(UDHR sentences for lid176, rendered pages and lines for ocr-det / ocr-cls / ocr-rec); other
models are checked on synthetic inputs and can be quantized in dynamic or fp16 mode only.`;

function parseMethod(value: string | undefined): { method?: CalibrationMethod; percentile?: number } {
  if (value === undefined || value === 'minmax') return value ? { method: 'minmax' } : {};
  const m = /^percentile(?::([0-9.]+))?$/.exec(value);
  if (!m) throw new Error(`--calibration must be minmax or percentile[:Q] (e.g. percentile:99.99), got '${value}'`);
  const q = m[1] === undefined ? 99.99 : Number(m[1]);
  if (!(q > 50 && q <= 100)) throw new Error(`the percentile must lie in (50, 100], got ${m[1]}`);
  return { method: 'percentile', percentile: q / 100 };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mode: { type: 'string', default: 'dynamic' },
      'per-channel': { type: 'boolean', default: false },
      calibration: { type: 'string' },
      samples: { type: 'string' },
      from: { type: 'string', default: '1' },
      version: { type: 'string' },
      repository: { type: 'string', default: join(process.cwd(), '.run', 'models') },
      prepare: { type: 'boolean', default: false },
      'op-types': { type: 'string' },
      exclude: { type: 'string' },
      'uint8-conv-weights': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  if (values.prepare) {
    await prepareQuantizedVersions(values.repository, (line) => console.log(line));
    return;
  }
  const [model, ...extra] = positionals;
  if (!model || extra.length > 0) throw new Error(USAGE);
  if (!['dynamic', 'static', 'fp16'].includes(values.mode))
    throw new Error(`--mode must be dynamic, static or fp16\n${USAGE}`);
  const samples = values.samples === undefined ? undefined : Number(values.samples);
  if (samples !== undefined && !(Number.isSafeInteger(samples) && samples > 0))
    throw new Error(`--samples must be a positive integer, got '${values.samples}'`);
  const recipe = catalogue({ only: 'demo' }).find((m) => m.name === model)?.quantized;
  const set: CalibrationSet | undefined = recipe?.calibration;
  if (values.mode === 'static' && !set)
    throw new Error(`static mode needs calibration inputs, and no generator makes them for '${model}'`);
  const count = samples ?? recipe?.samples ?? 8;
  const modelDir = join(values.repository, model);
  const started = performance.now();
  const outcome = await quantizeInRepository(
    {
      repository: values.repository,
      model,
      from: values.from,
      ...(values.version ? { version: values.version } : {}),
      inputs: `${set ?? 'synthetic'} × ${count}`,
    },
    {
      mode: values.mode as QuantizeMode,
      perChannel: values['per-channel'],
      ...parseMethod(values.calibration),
      ...(values['op-types'] ? { opTypes: values['op-types'].split(',') } : {}),
      ...(values.exclude ? { exclude: values.exclude.split(',') } : {}),
      ...(values['uint8-conv-weights'] ? { uint8ConvWeights: true } : {}),
    },
    async () =>
      set
        ? calibrationInputs(set, modelDir, count)
        : syntheticInputs(await readFile(join(modelDir, values.from, 'model.onnx')), count),
  );
  if (outcome.result) console.log(formatReport(outcome.result.report));
  const r = outcome.record;
  console.log(
    `\n${outcome.status} ${outcome.dir}: ${r.bytes.quantized} bytes, ${(r.bytes.quantized / r.bytes.original).toFixed(3)} of version ${values.from}'s ${r.bytes.original}`,
  );
  for (const d of r.differences)
    console.log(
      `  output ${d.output}: max |Δ| ${d.maxAbs.toPrecision(3)}, ${(100 * d.equal).toFixed(1)} % of elements equal (on ${count} samples)`,
    );
  console.log(`  ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
