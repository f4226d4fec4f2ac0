#!/usr/bin/env node
/**
 * The measurements in docs/quantization.md: each demo model quantized every way the tool can
 * (into a scratch copy of the repository, as versions 2 to 6), then file size, session.run speed
 * on the CPU with one intra-op thread, and agreement with version 1.
 *
 *   node packages/quantize/dist/measure/main.js [--repository .run/models] [--models lid176,ocr-rec]
 *       [--variants 2,6] [--lines 240] [--pages 24] [--runs 20] [--out file.json]
 *
 * Version 6 is the model's zoo recipe (what `npm start` serves as version 2); --variants picks
 * which of versions 2 to 6 are made and measured.
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { catalogue, type QuantizedRecipe } from '@tessera/model-zoo';
import { compareOcrVersions } from '@tessera/ocr/testing';
import { calibrationInputs } from '../calibration-inputs.js';
import { recipeOptions } from '../prepare-versions.js';
import { quantizeInRepository } from '../quantize-in-repository.js';
import type { QuantizeOptions } from '../quantize-model.js';
import { compareLidVersions } from './lid-agreement.js';
import { measureSpeeds } from './speed.js';

type Variant = { version: string; label: string; options: Omit<QuantizeOptions, 'calibration'> };
const VARIANTS: Variant[] = [
  { version: '2', label: 'dynamic', options: { mode: 'dynamic', perChannel: true } },
  { version: '3', label: 'static min-max', options: { mode: 'static', perChannel: true, method: 'minmax' } },
  {
    version: '4',
    label: 'static percentile 99.99',
    options: { mode: 'static', perChannel: true, method: 'percentile', percentile: 0.9999 },
  },
  { version: '5', label: 'fp16', options: { mode: 'fp16' } },
];
const BATCHES: Record<string, number[]> = {
  lid176: [1, 8, 64],
  'ocr-cls': [1, 8, 64],
  'ocr-rec': [1, 4, 16],
  'ocr-det': [1, 2],
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repository: { type: 'string', default: '.run/models' },
      models: { type: 'string' },
      out: { type: 'string' },
      runs: { type: 'string', default: '20' },
      variants: { type: 'string' },
      lines: { type: 'string', default: '240' },
      pages: { type: 'string', default: '24' },
    },
  });
  const wanted = values.models?.split(',');
  const picked = values.variants?.split(',');
  const variantsOf = (recipe: QuantizedRecipe): Variant[] =>
    [...VARIANTS, { version: '6', label: 'recipe', options: recipeOptions(recipe) }].filter(
      (v) => !picked || picked.includes(v.version),
    );
  const models = catalogue({ only: 'demo' }).filter((m) => m.quantized && (!wanted || wanted.includes(m.name)));
  const scratch = await mkdtemp(join(tmpdir(), 'tessera-quantize-measure-'));
  const results: Record<string, unknown> = { measuredAt: new Date().toISOString() };
  try {
    for (const model of models) {
      const recipe = model.quantized!;
      const dir = join(scratch, model.name);
      await cp(join(values.repository, model.name), dir, { recursive: true, filter: (src) => !/\/[2-9]$/.test(src) });
      const feeds = await calibrationInputs(recipe.calibration, dir, recipe.samples);
      const size1 = (await stat(join(dir, '1', 'model.onnx'))).size;
      const perVersion: Record<string, Record<string, unknown>> = { '1': { label: 'fp32', bytes: size1 } };
      const files: Uint8Array[] = [await readFile(join(dir, '1', 'model.onnx'))];
      for (const v of variantsOf(recipe)) {
        if (v.options.mode === 'static' && model.name === 'lid176') continue; // no Conv or large MatMul: nothing for QDQ to cover
        const started = performance.now();
        await quantizeInRepository(
          {
            repository: scratch,
            model: model.name,
            version: v.version,
            inputs: `${recipe.calibration} × ${recipe.samples}`,
          },
          v.options,
          async () => feeds,
        );
        const quantizeS = (performance.now() - started) / 1000;
        const bytes = await readFile(join(dir, v.version, 'model.onnx'));
        perVersion[v.version] = { label: v.label, bytes: bytes.byteLength, ratio: bytes.byteLength / size1, quantizeS };
        files.push(bytes);
      }
      const speeds = await measureSpeeds(files, feeds[0]!, BATCHES[model.name]!, Number(values.runs));
      Object.values(perVersion).forEach((entry, i) => Object.assign(entry, speeds[i]));
      console.error(`${model.name}: ${JSON.stringify(perVersion)}`);
      results[model.name] = perVersion;
    }
    if (!wanted || wanted.includes('lid176')) {
      const agreement: Record<string, unknown> = {};
      for (const v of ['2', '5', '6'].filter((v) => !picked || picked.includes(v)))
        agreement[v] = await compareLidVersions(join(scratch, 'lid176'), ['1', v]);
      results.lid176Agreement = agreement;
    }
    if (!wanted || wanted.some((m) => m.startsWith('ocr'))) {
      const agreement: Record<string, unknown> = {};
      const sample = { lines: Number(values.lines), pages: Number(values.pages) };
      for (const v of ['2', '3', '4', '5', '6'].filter((v) => !picked || picked.includes(v)))
        agreement[v] = await compareOcrVersions(scratch, ['1', v], sample);
      results.ocrAgreement = agreement;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const json = `${JSON.stringify(results, null, 2)}\n`;
  if (values.out) await writeFile(values.out, json);
  console.log(json);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
