import { ServiceError, type ModelSpec } from '@tessera/contract';
import type { ApiContext } from './context.js';

/** Looks a model version up, or answers 404 naming what exists. */
export function resolveModel(ctx: ApiContext, name: string, version?: string): ModelSpec {
  const model = ctx.repository.get(name, version);
  if (model) return model;
  const versions = ctx.repository.versions(name);
  if (versions.length === 0) {
    throw new ServiceError('model_not_found', `unknown model '${name}'; served models: ${ctx.repository.names().join(', ') || 'none'}`);
  }
  throw new ServiceError('model_not_found', `unknown version '${version}' of model '${name}'; versions: ${versions.join(', ')}`);
}

/** Fails fast with 503 when no live worker serves the model, instead of queueing into a void. */
export async function requireServed(ctx: ApiContext, model: ModelSpec): Promise<string> {
  let serving;
  try {
    serving = await ctx.workers.serving(model.name, model.version);
  } catch (err) {
    throw new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });
  }
  const first = serving[0];
  if (!first) throw new ServiceError('not_ready', `no live worker serves model '${model.name}' version ${model.version}`);
  return first.providers[`${model.name}@${model.version}`] ?? 'unknown';
}
