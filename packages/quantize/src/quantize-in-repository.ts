import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Feeds } from './calibrate.js';
import { quantizeModel, type QuantizeOptions, type QuantizeResult } from './quantize-model.js';
import { readRecord, sha256, writeVersion, type VersionRecord } from './write-version.js';

/** Bumped when the quantizer's output changes for the same input and options, so prepared versions are redone. */
export const QUANTIZER_REVISION = 2;

export interface RepositoryTarget {
  repository: string;
  model: string;
  /** The FP32 version read (default '1'). */
  from?: string;
  /** The version written (default: one past the highest present). */
  version?: string;
  /** Names the calibration inputs (set and count), which the fingerprint covers too. */
  inputs: string;
}

async function modelFileName(modelDir: string): Promise<string> {
  const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as {
    default_model_filename?: string;
  };
  return config.default_model_filename ?? 'model.onnx';
}

async function nextVersion(modelDir: string): Promise<string> {
  const versions = (await readdir(modelDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && /^[1-9][0-9]*$/.test(e.name))
    .map((e) => Number(e.name));
  return String(Math.max(0, ...versions) + 1);
}

export interface RepositoryOutcome {
  status: 'written' | 'unchanged';
  version: string;
  dir: string;
  record: VersionRecord;
  result?: QuantizeResult;
}

/**
 * Quantizes one version of a model in a Triton-style repository into a new version directory
 * beside it. Idempotent: when the directory already holds the output of the same source file,
 * options and quantizer revision, nothing is redone.
 */
export async function quantizeInRepository(
  target: RepositoryTarget,
  options: Omit<QuantizeOptions, 'calibration'>,
  inputs: () => Promise<Feeds[]>,
): Promise<RepositoryOutcome> {
  const modelDir = join(target.repository, target.model);
  const fileName = await modelFileName(modelDir);
  const from = target.from ?? '1';
  const original = await readFile(join(modelDir, from, fileName));
  const version = target.version ?? (await nextVersion(modelDir));
  const dir = join(modelDir, version);
  const fingerprint = sha256(
    new TextEncoder().encode(
      JSON.stringify({ options, inputs: target.inputs, source: sha256(original), revision: QUANTIZER_REVISION }),
    ),
  );
  const existing = await readRecord(dir);
  const present = await readFile(join(dir, fileName)).then(
    () => true,
    () => false,
  );
  if (existing?.fingerprint === fingerprint && present) return { status: 'unchanged', version, dir, record: existing };
  const result = await quantizeModel(original, { ...options, calibration: await inputs() });
  const record = await writeVersion(dir, fileName, result, {
    fingerprint,
    from: { version: from, sha256: sha256(original) },
    options: { ...options, inputs: target.inputs },
    originalBytes: original.byteLength,
  });
  return { status: 'written', version, dir, record, result };
}
