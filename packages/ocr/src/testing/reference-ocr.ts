import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

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
}

interface GutenOcr {
  detect(image: string | Buffer): Promise<Array<{ text: string; mean: number; box?: number[][] }>>;
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
 * @gutenye/ocr-node 1.4.8 on the repository's model files. Its package exports only the whole
 * pipeline, whose recognition step keeps lines scoring 0.5 and more and merges lines of one
 * row; for line-by-line comparison its recogniser and image class are loaded from their own
 * files and driven in the order its Recognition.run drives them.
 */
export async function createReferenceOcr(repoDir: string): Promise<ReferenceOcr> {
  const nodeEntry = require.resolve('@gutenye/ocr-node');
  const commonEntry = require.resolve('@gutenye/ocr-common');
  // Importing the package first registers its Node backend, which the recogniser needs.
  const { default: Ocr } = (await import(pathToFileURL(nodeEntry).href)) as { default: { create(o: object): Promise<GutenOcr> } };
  const { ImageRaw } = (await import(pathToFileURL(join(dirname(nodeEntry), 'ImageRaw.js')).href)) as {
    ImageRaw: { open(input: string | Buffer): Promise<{ resize(size: { height: number }): Promise<unknown> }> };
  };
  const { Recognition } = (await import(pathToFileURL(join(dirname(commonEntry), 'models', 'Recognition.js')).href)) as {
    Recognition: { create(o: object): Promise<GutenRecognition> };
  };
  const models = {
    detectionPath: join(repoDir, 'ocr-det', '1', 'model.onnx'),
    recognitionPath: join(repoDir, 'ocr-rec', '1', 'model.onnx'),
    dictionaryPath: join(repoDir, 'ocr-rec', 'ppocr_keys_v1.txt'),
  };
  await openCvReady(commonEntry);
  const ocr = await Ocr.create({ models });
  const recognition = await Recognition.create({ models });
  return {
    async line(png) {
      const image = await (await ImageRaw.open(png)).resize({ height: 48 });
      const output = await recognition.runModel({ modelData: recognition.imageToInput(image, {}) });
      const [first] = recognition.decodeText(output);
      return { text: first?.text ?? '', score: first?.mean ?? 0 };
    },
    async page(png) {
      const lines = await ocr.detect(png);
      return lines.map((l) => ({ text: l.text, score: l.mean, ...(l.box ? { box: l.box } : {}) }));
    },
  };
}
