import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QuantizeResult } from './quantize-model.js';

/** Beside each quantized model.onnx: what was done, to which file, and the fingerprint that makes re-preparing a no-op. */
export const QUANTIZATION_FILE = 'quantization.json';

export interface VersionRecord {
  fingerprint: string;
  from: { version: string; sha256: string };
  options: Record<string, unknown>;
  fromOpset: number;
  bytes: { original: number; quantized: number };
  differences: QuantizeResult['differences'];
  quantized: string[];
  skipped: { node: string; op: string; reason: string }[];
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function readRecord(versionDir: string): Promise<VersionRecord | undefined> {
  return readFile(join(versionDir, QUANTIZATION_FILE), 'utf8').then(
    (t) => JSON.parse(t) as VersionRecord,
    () => undefined,
  );
}

/**
 * Writes model.onnx and its record into `versionDir` through temporary names; the record goes
 * last, so an interrupted write is redone next time rather than taken for finished.
 */
export async function writeVersion(
  versionDir: string,
  fileName: string,
  result: QuantizeResult,
  record: Omit<VersionRecord, 'quantized' | 'skipped' | 'differences' | 'fromOpset' | 'bytes'> & {
    originalBytes: number;
  },
): Promise<VersionRecord> {
  await mkdir(versionDir, { recursive: true });
  const full: VersionRecord = {
    fingerprint: record.fingerprint,
    from: record.from,
    options: record.options,
    fromOpset: result.fromOpset,
    bytes: { original: record.originalBytes, quantized: result.bytes.byteLength },
    differences: result.differences,
    quantized: result.report.filter((r) => r.as).map((r) => `${r.node} (${r.op} → ${r.as})`),
    skipped: result.report.filter((r) => !r.as).map(({ node, op, reason }) => ({ node, op, reason })),
  };
  const tmp = (name: string) => join(versionDir, `.${name}.${process.pid}.tmp`);
  await writeFile(tmp(fileName), result.bytes);
  await rename(tmp(fileName), join(versionDir, fileName));
  await writeFile(tmp(QUANTIZATION_FILE), `${JSON.stringify(full, null, 2)}\n`);
  await rename(tmp(QUANTIZATION_FILE), join(versionDir, QUANTIZATION_FILE));
  return full;
}
