import path from 'node:path';
import type { ApiConfig } from '@tessera/config';
import type { Pipeline } from '@tessera/contract';
import { createLidPipeline, LID_MODEL } from '@tessera/fasttext';
import type { ModelRepository } from '@tessera/model-repository';

/**
 * The text and image models /predict knows, for whichever of their repository models exist.
 * Their pre- and post-processing runs here, in the API tier; workers see only tensors.
 */
export async function loadPipelines(config: ApiConfig, repository: ModelRepository): Promise<Map<string, Pipeline>> {
  const pipelines = new Map<string, Pipeline>();
  const lid = repository.get(LID_MODEL);
  if (lid) {
    const pipeline = await createLidPipeline(path.join(repository.dir, LID_MODEL), {
      // One request is one inference call, so it may not carry more texts than the model takes.
      maxTexts: Math.min(config.MAX_TEXTS, lid.maxItemsPerRequest),
      maxTextLength: config.MAX_TEXT_LENGTH,
      maxTokens: config.MAX_TEXT_TOKENS,
    });
    pipelines.set(pipeline.name, pipeline);
  }
  return pipelines;
}
