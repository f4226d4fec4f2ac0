import { ServiceError, type ModelSpec } from '@tessera/contract';
import type { Provider } from '@tessera/model-repository';
import type { ApiContext } from '../context.js';

/** Looks a model version up, or answers 404 naming what exists. Without a version: the default for `provider`. */
export function resolveModel(ctx: ApiContext, name: string, version?: string, provider?: Provider): ModelSpec {
  const model = ctx.repository.get(name, version, provider);
  if (model) return model;
  const versions = ctx.repository.versions(name);
  if (versions.length === 0) {
    throw new ServiceError(
      'model_not_found',
      `unknown model '${name}'; served models: ${ctx.repository.names().join(', ') || 'none'}`,
    );
  }
  throw new ServiceError(
    'model_not_found',
    `unknown version '${version}' of model '${name}'; versions: ${versions.join(', ')}`,
  );
}

/**
 * The provider that runs a model: CUDA when a live worker runs any of its versions on CUDA,
 * else the CPU. It decides which version a request without one gets (see defaultVersion).
 */
async function providerOf(ctx: ApiContext, name: string): Promise<Provider> {
  const workers = await ctx.workers.live().catch(() => []);
  const onCuda = workers.some((w) =>
    Object.entries(w.providers).some(([key, p]) => key.startsWith(`${name}@`) && p.toLowerCase().includes('cuda')),
  );
  return onCuda ? 'cuda' : 'cpu';
}

/** resolveModel for a request: a named version as it is, else the default on the provider that serves the model. */
export async function resolveRequested(ctx: ApiContext, name: string, version?: string): Promise<ModelSpec> {
  if (version !== undefined || ctx.repository.versions(name).length < 2) return resolveModel(ctx, name, version);
  return resolveModel(ctx, name, undefined, await providerOf(ctx, name));
}
