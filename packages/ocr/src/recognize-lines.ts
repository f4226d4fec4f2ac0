import { ServiceError, type Infer } from '@tessera/contract';
import { ctcGreedyDecode, type Recognized } from './ctc-decode.js';
import { recTensor } from './line-tensors.js';
import { modelOutput } from './model-output.js';
import { REC } from './ocr-models.js';
import type { RgbImage } from './rgb-image.js';

/**
 * Reads each line image with the recogniser. One call per line, all at once: lines differ in
 * width, and the worker batches concurrent calls by padding the width and cropping the
 * answers back.
 */
export function recognizeLines(lines: readonly RgbImage[], infer: Infer, characters: readonly string[]): Promise<Recognized[]> {
  return Promise.all(lines.map(async (line) => {
    const answer = await infer({ model: REC.model, inputs: [await recTensor(line, REC.input)], outputs: [REC.output] });
    const { data, shape } = modelOutput(answer, REC.model, REC.output, 3);
    const [, steps, classes] = shape as [number, number, number];
    if (classes !== characters.length) {
      throw new ServiceError('internal', `model '${REC.model}' has ${classes} classes but its dictionary gives ${characters.length}`);
    }
    return ctcGreedyDecode(data, steps, characters);
  }));
}
