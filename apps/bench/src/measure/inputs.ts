import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Datatype, ModelSpec } from '@tessera/contract';
import { seededRandom } from '@tessera/model-zoo';
import { allocate, datatypeInfo, toHalfBits } from '@tessera/contract';
import { MARKERS, type BinaryTemplate, type Vary } from './vary.js';

/** One item's tensor, without the batch dimension. */
export interface ItemTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  values: number[];
}

/** The request every client of every contender sends for a model: one item. */
export interface ModelInput {
  model: string;
  tensors: ItemTensor[];
  /** The OIP request body (batch dimension 1). */
  body: string;
  /** The same body with two values of the first tensor replaced by markers (see vary.ts). */
  template: string;
  vary: Vary;
  /** The same request in the binary tensor data extension (what the full stack is sent). */
  binary: BinaryTemplate & { headerLength: number; bytes: number };
  items: number;
  description: string;
}

/** A realistic PP-OCR recognition crop is 48 px high and a few hundred wide. */
const VARIABLE_DIMS: Record<string, number> = { 'ocr-rec': 320 };
const DEFAULT_VARIABLE_DIM = 16;
const LID_TEXT = 'The quick brown fox jumps over the lazy dog while the committee discusses the annual budget report.';

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Floats in [-1, 1] rounded to 4 decimals: the JSON stays compact and parses to the same values everywhere. */
function floats(count: number, random: () => number): number[] {
  return Array.from({ length: count }, () => Math.round((2 * random() - 1) * 1e4) / 1e4);
}

/**
 * lid176 takes fastText token ids. The repository's tokenizer.json turns a fixed sentence into
 * real ids when the fastText package is built; otherwise ids are drawn from the dictionary rows.
 */
async function lidIds(
  spec: ModelSpec,
  random: () => number,
): Promise<{ ids: number[]; how: string; offset: number; rows: number }> {
  const tokenizerPath = join(dirname(dirname(spec.file)), spec.labels.tokenizer ?? 'tokenizer.json');
  const raw = existsSync(tokenizerPath)
    ? (JSON.parse(readFileSync(tokenizerPath, 'utf8')) as { words?: unknown[]; idOffset?: number })
    : undefined;
  const rows = Array.isArray(raw?.words) ? raw.words.length : 1000;
  const offset = raw?.idOffset ?? 1;
  const fasttextEntry = join(findRoot(spec.file), 'packages', 'fasttext', 'dist', 'index.js');
  if (raw && existsSync(fasttextEntry)) {
    try {
      const mod = (await import(pathToFileURL(fasttextEntry).href)) as {
        tokenizerFromFile(raw: unknown): { tokenizer: { encode(text: string): number[] }; idOffset: number };
      };
      const { tokenizer, idOffset } = mod.tokenizerFromFile(raw);
      return {
        ids: tokenizer.encode(LID_TEXT).map((id) => id + idOffset),
        how: `fastText tokens of a ${LID_TEXT.split(' ').length}-word sentence`,
        offset: idOffset,
        rows,
      };
    } catch {
      // fall through to dictionary ids
    }
  }
  return {
    ids: Array.from({ length: 120 }, () => offset + Math.floor(random() * rows)),
    how: '120 dictionary ids',
    offset,
    rows,
  };
}

function findRoot(from: string): string {
  let dir = dirname(from);
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Little-endian bytes of an item tensor, as the binary extension carries them. */
function rawBytes(t: ItemTensor): Buffer {
  const out = allocate(t.datatype, t.values.length);
  t.values.forEach((v, i) => {
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v);
    else out[i] = t.datatype === 'FP16' ? toHalfBits(v) : v;
  });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Builds the one-item request of a model: deterministic pseudo-random data of a realistic size. */
export async function modelInput(spec: ModelSpec, seed = 7): Promise<ModelInput> {
  const random = seededRandom(seed);
  const tensors: ItemTensor[] = [];
  const parts: string[] = [];
  let vary: Vary = { kind: 'float' };
  for (const input of spec.inputs) {
    if (spec.name === 'lid176' || (input.datatype === 'INT64' && input.name === 'ids')) {
      const { ids, how, offset, rows } = await lidIds(spec, random);
      if (tensors.length === 0) vary = { kind: 'ids', offset, rows };
      tensors.push({ name: input.name, datatype: input.datatype, shape: [ids.length], values: ids });
      parts.push(`${input.name} INT64 [1,${ids.length}] (${how})`);
      continue;
    }
    const shape = input.shape.map((d) => (d === -1 ? (VARIABLE_DIMS[spec.name] ?? DEFAULT_VARIABLE_DIM) : d));
    const isFloat = input.datatype.startsWith('FP');
    const values = isFloat
      ? floats(size(shape), random)
      : Array.from({ length: size(shape) }, () => Math.floor(random() * 10));
    if (tensors.length === 0 && !isFloat) vary = { kind: 'ids', offset: 0, rows: 10 };
    tensors.push({ name: input.name, datatype: input.datatype, shape, values });
    parts.push(
      `${input.name} ${input.datatype} [1,${shape.join(',')}] ${isFloat ? 'uniform in [-1,1]' : 'integers in [0,9]'}`,
    );
  }
  const batched = spec.maxBatchSize > 0;
  const bodyOf = (ts: ItemTensor[]) =>
    JSON.stringify({
      inputs: ts.map((t) => ({
        name: t.name,
        datatype: t.datatype,
        shape: batched ? [1, ...t.shape] : t.shape,
        data: t.values,
      })),
    });
  // Markers in the first two values of the first tensor (numbers the data cannot contain).
  const marked = tensors.map((t, i) => (i === 0 ? { ...t, values: [777777777, 888888888, ...t.values.slice(2)] } : t));
  const template = bodyOf(marked).replace('777777777', MARKERS[0]).replace('888888888', MARKERS[1]);
  // As tritonclient sends it when no outputs are named: every output comes back as raw bytes.
  const header = JSON.stringify({
    parameters: { binary_data_output: true },
    inputs: tensors.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: batched ? [1, ...t.shape] : t.shape,
      parameters: { binary_data_size: size(t.shape) * datatypeInfo(t.datatype).size },
    })),
  });
  const data = Buffer.concat(tensors.map((t) => rawBytes(t)));
  const first = tensors[0]?.datatype;
  const binary = {
    header,
    data: data.toString('base64'),
    element: first === 'FP32' ? ('FP32' as const) : first === 'INT64' ? ('INT64' as const) : ('other' as const),
    headerLength: Buffer.byteLength(header),
    bytes: data.byteLength,
  };
  return {
    model: spec.name,
    tensors,
    body: bodyOf(tensors),
    template,
    vary,
    binary,
    items: 1,
    description: parts.join('; '),
  };
}
