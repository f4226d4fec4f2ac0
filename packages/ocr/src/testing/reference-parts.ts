import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** An RGBA image as @gutenye/ocr passes them around (its ImageRaw's data). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The few opencv.js calls the parity tests make, typed loosely. */
export interface OpenCv {
  CV_32FC2: number;
  INTER_CUBIC: number;
  BORDER_REPLICATE: number;
  Mat: new () => CvMat;
  Size: new (w: number, h: number) => unknown;
  Point: new (x: number, y: number) => unknown;
  Scalar: new () => unknown;
  matFromArray(rows: number, cols: number, type: number, data: number[]): CvMat;
  matFromImageData(image: RgbaImage): CvMat;
  getPerspectiveTransform(src: CvMat, dst: CvMat): CvMat;
  getRotationMatrix2D(center: unknown, angle: number, scale: number): CvMat;
  warpPerspective(src: CvMat, dst: CvMat, m: CvMat, size: unknown, flags: number, border: number, value: unknown): void;
  warpAffine(src: CvMat, dst: CvMat, m: CvMat, size: unknown, flags: number, border: number, value: unknown): void;
}
export interface CvMat {
  data: Uint8Array;
  data64F: Float64Array;
  rows: number;
  cols: number;
  delete(): void;
}

export interface ReferenceParts {
  cv: OpenCv;
  /** The reference's DB post-processing and cropping on a binary map (white = text) and the page it came from. */
  splitIntoLineImages(mask: RgbaImage, page: RgbaImage): Promise<Array<{ box: number[][]; image: RgbaImage }>>;
  /** The reference's resize of a line image to a height (sharp, as its ImageRaw does it). */
  resizeToHeight(image: RgbaImage, height: number): Promise<RgbaImage>;
}

const require = createRequire(import.meta.url);

/**
 * The pieces @gutenye/ocr 1.4.8 builds its pipeline from, loaded from its own files: opencv.js
 * (whose WebAssembly starts asynchronously), its DB post-processing and its image class.
 */
export async function loadReferenceParts(): Promise<ReferenceParts> {
  const nodeEntry = require.resolve('@gutenye/ocr-node');
  const commonEntry = require.resolve('@gutenye/ocr-common');
  // Importing the package first registers its Node backend (ImageRaw), which the parts use.
  await import(pathToFileURL(nodeEntry).href);
  const { ImageRaw } = (await import(pathToFileURL(join(dirname(nodeEntry), 'ImageRaw.js')).href)) as {
    ImageRaw: new (raw: RgbaImage) => RgbaImage & { resize(size: { height: number }): Promise<RgbaImage> };
  };
  const { splitIntoLineImages } = (await import(
    pathToFileURL(join(dirname(commonEntry), 'backend', 'splitIntoLineImages.js')).href
  )) as {
    splitIntoLineImages(mask: RgbaImage, page: RgbaImage): Promise<Array<{ box: number[][]; image: RgbaImage }>>;
  };
  const cv = createRequire(commonEntry)('@techstark/opencv-js') as OpenCv & { onRuntimeInitialized?: () => void };
  if (!(cv as { Mat?: unknown }).Mat) {
    await new Promise<void>((resolve) => {
      cv.onRuntimeInitialized = resolve;
    });
  }
  return {
    cv,
    splitIntoLineImages: (mask, page) => splitIntoLineImages(new ImageRaw(mask), new ImageRaw(page)),
    async resizeToHeight(image, height) {
      const resized = await new ImageRaw(image).resize({ height });
      return { width: resized.width, height: resized.height, data: resized.data };
    },
  };
}
