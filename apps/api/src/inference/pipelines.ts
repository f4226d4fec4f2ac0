import path from 'node:path';
import type { ApiConfig } from '@tessera/config';
import type { Pipeline } from '@tessera/contract';
import { createLidPipeline, LID_MODEL } from '@tessera/fasttext';
import type { ModelRepository } from '@tessera/model-repository';
import { createOcrLinePipeline, createOcrPipeline, DecodeGate } from '@tessera/ocr';

/**
 * The text and image models /predict knows, for whichever of their repository models exist.
 * Their pre- and post-processing runs here, in the API tier; workers see only tensors.
 */
export async function loadPipelines(config: ApiConfig, repository: ModelRepository): Promise<Map<string, Pipeline>> {
  const pipelines: Pipeline[] = [];
  const lid = repository.get(LID_MODEL);
  if (lid) {
    pipelines.push(
      await createLidPipeline(path.join(repository.dir, LID_MODEL), {
        // One request is one inference call, so it may not carry more texts than the model takes.
        maxTexts: Math.min(config.MAX_TEXTS, lid.maxItemsPerRequest),
        maxTextLength: config.MAX_TEXT_LENGTH,
        maxTokens: config.MAX_TEXT_TOKENS,
      }),
    );
  }
  const limits = {
    maxImages: config.MAX_IMAGES,
    maxImageBytes: config.MAX_IMAGE_BYTES,
    maxImagePixels: config.MAX_IMAGE_PIXELS,
    workingPixels: config.OCR_WORKING_PIXELS,
    maxDecodedBytes: config.MAX_DECODED_BYTES,
    maxBoxesPerPage: config.MAX_BOXES_PER_PAGE,
  };
  // One gate for the whole replica: its decodes at once, over every request and both pipelines.
  const gate = new DecodeGate(config.MAX_CONCURRENT_DECODES);
  for (const pipeline of [
    createOcrLinePipeline(repository.dir, limits, gate),
    createOcrPipeline(repository.dir, limits, gate),
  ]) {
    if (pipeline.models.every((m) => repository.get(m))) pipelines.push(pipeline);
  }
  return new Map(pipelines.map((p) => [p.name, p]));
}
