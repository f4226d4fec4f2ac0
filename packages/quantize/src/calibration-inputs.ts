import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '@tessera/contract';
import { readSignature, type SigTensor } from '@tessera/onnx';
import * as ort from 'onnxruntime-node';
import type { Feeds } from './calibrate.js';

export type CalibrationSet = 'udhr' | 'ocr-det' | 'ocr-cls' | 'ocr-rec';

const toFeeds = (tensors: Tensor[]): Feeds[] =>
  tensors.map((t) => ({
    [t.name]: new ort.Tensor(
      t.datatype === 'INT64' ? 'int64' : 'float32',
      t.data as Float32Array | BigInt64Array,
      t.shape,
    ),
  }));

/**
 * Calibration inputs from the project's own generators: UDHR sentences through the model's
 * tokenizer.json for lid176, rendered pages and text lines for PP-OCR. The generators are
 * loaded only when asked for (the OCR one draws with a canvas and the system's fonts).
 */
export async function calibrationInputs(set: CalibrationSet, modelDir: string, samples: number): Promise<Feeds[]> {
  if (set === 'udhr') {
    const { lidCalibrationInputs } = await import('@tessera/fasttext/calibration');
    const tokenizer = JSON.parse(await readFile(join(modelDir, 'tokenizer.json'), 'utf8')) as unknown;
    return toFeeds(lidCalibrationInputs(tokenizer, samples));
  }
  const { ocrCalibrationInputs } = await import('@tessera/ocr/calibration');
  return toFeeds(await ocrCalibrationInputs(set, samples));
}

function syntheticTensor(t: SigTensor, seed: number): ort.Tensor {
  // Variable dimensions get 1 for the batch and 16 elsewhere: enough to run, small enough to be quick.
  const dims = t.shape.map((d, i) => (d >= 0 ? d : i === 0 ? 1 : 16));
  const n = dims.reduce((a, b) => a * b, 1);
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  if (t.datatype === 'INT64')
    return new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: n }, () => BigInt(Math.floor(next() * 8))),
      dims,
    );
  if (t.datatype === 'FP32') return new ort.Tensor('float32', Float32Array.from({ length: n }, next), dims);
  throw new Error(`input '${t.name}' is ${t.datatype ?? 'untyped'}: give calibration inputs for this model`);
}

/** Inputs for a model no generator knows: uniform [0, 1) floats and small integer ids, only good for checking that it runs. */
export function syntheticInputs(model: Uint8Array, samples: number): Feeds[] {
  const sig = readSignature(model);
  return Array.from({ length: samples }, (_, s) =>
    Object.fromEntries(sig.inputs.map((t) => [t.name, syntheticTensor(t, s + 1)])),
  );
}
