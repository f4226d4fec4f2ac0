import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fromWire, ServiceError, type ModelSpec, type ResponseOutput, type WireTensor } from '@tessera/contract';
import { toBinaryOutputs, toJsonData, toResponseOutputs } from '../http/encoding/tensors.js';

/**
 * Triton's classification extension: an output requested with `parameters.classification: k`
 * comes back as the top k of each item as BYTES strings "score:index:label" (":label" only when
 * the model has labels), highest first, shape [batch, k] (or [k] without a batch dimension).
 */
export function classificationsOf(outputs: unknown): Map<string, number> {
  const asked = new Map<string, number>();
  if (!Array.isArray(outputs)) return asked;
  for (const o of outputs as Array<{ name?: unknown; parameters?: Record<string, unknown> }>) {
    const k = o?.parameters?.classification;
    if (k === undefined || typeof o.name !== 'string') continue;
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1)
      throw new ServiceError(
        'invalid_input',
        `output '${o.name}' parameters.classification must be a positive integer, got ${JSON.stringify(k)}`,
      );
    asked.set(o.name, k);
  }
  return asked;
}

/** The top k of every item of an output tensor, as Triton writes them. */
export function classify(
  model: ModelSpec,
  wire: WireTensor,
  k: number,
  labels: readonly string[] | undefined,
): ResponseOutput {
  const t = fromWire(wire);
  if (t.datatype === 'BOOL')
    throw new ServiceError('invalid_input', `output '${t.name}' is BOOL and cannot be classified`);
  const values = toJsonData(t).map(Number);
  const batched = model.maxBatchSize > 0;
  const items = batched ? (t.shape[0] ?? 1) : 1;
  const per = items > 0 ? values.length / items : 0;
  const top = Math.min(k, per);
  const data: string[] = [];
  for (let i = 0; i < items; i++) {
    const row = values.slice(i * per, (i + 1) * per);
    const order = row
      .map((_, j) => j)
      .sort((a, b) => row[b]! - row[a]! || a - b)
      .slice(0, top);
    for (const j of order) data.push(`${row[j]!.toFixed(6)}:${j}${labels?.[j] !== undefined ? `:${labels[j]}` : ''}`);
  }
  return { name: t.name, datatype: 'BYTES', shape: batched ? [items, top] : [top], data };
}

/** BYTES elements for the binary extension: each a 4-byte little-endian length, then its bytes. */
export function bytesTensor(strings: readonly string[]): Buffer {
  const parts = strings.flatMap((s) => {
    const bytes = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.byteLength);
    return [len, bytes];
  });
  return Buffer.concat(parts);
}

const cache = new Map<string, Promise<string[] | undefined>>();

/**
 * A model's class labels, as Triton finds them: `labels.txt` beside the model (one per line, in
 * class order), else the JSON array named by the config label `label_names` (lid176's 176
 * language codes). Read once per model file.
 */
export function labelsOf(model: ModelSpec): Promise<string[] | undefined> {
  const dir = dirname(dirname(model.file));
  const key = `${dir}:${model.digest ?? model.version}`;
  let found = cache.get(key);
  if (!found) {
    found = readLabels(dir, model.labels.label_names);
    cache.set(key, found);
  }
  return found;
}

async function readLabels(dir: string, jsonName: string | undefined): Promise<string[] | undefined> {
  const text = await readFile(join(dir, 'labels.txt'), 'utf8').catch(() => undefined);
  if (text !== undefined) return text.split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1);
  if (!jsonName || /[\\/]/.test(jsonName)) return undefined;
  const json = await readFile(join(dir, jsonName), 'utf8').catch(() => undefined);
  const parsed = json === undefined ? undefined : (JSON.parse(json) as unknown);
  return Array.isArray(parsed) && parsed.every((l) => typeof l === 'string') ? parsed : undefined;
}

/** The requested classifications of a result, by output name. */
export async function classifyOutputs(
  model: ModelSpec,
  wires: readonly WireTensor[],
  asked: ReadonlyMap<string, number>,
): Promise<Map<string, ResponseOutput>> {
  const out = new Map<string, ResponseOutput>();
  if (asked.size === 0) return out;
  const labels = await labelsOf(model);
  for (const w of wires) {
    const k = asked.get(w.name);
    if (k !== undefined) out.set(w.name, classify(model, w, k, labels));
  }
  return out;
}

/**
 * The response's outputs in result order: classified ones replace their tensor; those named in
 * `binary` travel as raw bytes after the JSON header (in `chunks`, in output order).
 */
export function encodeOutputs(
  wires: readonly WireTensor[],
  binary: ReadonlySet<string> | undefined,
  classified: ReadonlyMap<string, ResponseOutput>,
): { outputs: ResponseOutput[]; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const outputs = wires.map((w): ResponseOutput => {
    const c = classified.get(w.name);
    if (c && binary?.has(w.name)) {
      const bytes = bytesTensor(c.data as string[]);
      chunks.push(bytes);
      return { name: c.name, datatype: c.datatype, shape: c.shape, parameters: { binary_data_size: bytes.byteLength } };
    }
    if (c) return c;
    if (binary?.has(w.name)) {
      const {
        outputs: [o],
        chunks: [bytes],
      } = toBinaryOutputs([w], binary);
      chunks.push(bytes!);
      return o!;
    }
    return toResponseOutputs([w])[0]!;
  });
  return { outputs, chunks };
}
