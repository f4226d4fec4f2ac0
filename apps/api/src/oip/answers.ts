import {
  metadataShape,
  modelKey,
  type ModelMetadataResponse,
  type ModelSpec,
  type ServerMetadataResponse,
} from '@tessera/contract';
import type { ApiContext } from '../context.js';

export const SERVER_NAME = 'tessera';
export const SERVER_VERSION = '0.1.0';

/** Exactly the Triton extensions implemented (see docs/compatibility.md). */
export const EXTENSIONS = [
  'binary_tensor_data',
  'classification',
  'model_configuration',
  'model_repository',
  'parameters',
  'schedule_policy',
  'statistics',
] as const;

/** The answers of the OIP metadata calls, the same over REST and gRPC. */
export function serverMetadata(): ServerMetadataResponse {
  return { name: SERVER_NAME, version: SERVER_VERSION, extensions: [...EXTENSIONS] };
}

/** Inputs, outputs and, while Redis answers, the serving parameters (batching, providers, workers). */
export async function modelMetadata(ctx: ApiContext, model: ModelSpec): Promise<ModelMetadataResponse> {
  const body: ModelMetadataResponse = {
    name: model.name,
    versions: ctx.repository.versions(model.name),
    platform: model.platform,
    inputs: model.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: metadataShape(model, s) })),
    outputs: model.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: metadataShape(model, s) })),
  };
  const workers = await ctx.workers.live().catch(() => undefined);
  if (!workers) return body;
  const key = modelKey(model);
  const providers = [...new Set(workers.flatMap((w) => (w.providers[key] ? [w.providers[key]!] : [])))];
  body.parameters = {
    version: model.version,
    max_batch_size: model.maxBatchSize,
    max_queue_delay_ms: model.maxQueueDelayMs,
    execution_provider: providers.join(',') || 'none',
    workers: workers.filter((w) => w.models.includes(key)).length,
    ...model.labels,
  };
  return body;
}

/** Whether a live worker serves the model version; why not when none does. */
export async function modelReadiness(ctx: ApiContext, model: ModelSpec): Promise<{ ready: boolean; reason?: string }> {
  const serving = await ctx.workers.serving(model.name, model.version).catch(() => []);
  return serving.length > 0
    ? { ready: true }
    : { ready: false, reason: `no live worker serves model '${model.name}' version ${model.version}` };
}
