import { modelKey, ServiceError, type ModelSpec } from '@tessera/contract';
import type { WorkerRegistry } from '@tessera/queue';

/** Fails fast with 503 when no live worker serves the model, instead of queueing into a void. */
export async function requireServed(workers: WorkerRegistry, model: ModelSpec): Promise<string> {
  let serving;
  try {
    serving = await workers.serving(model.name, model.version);
  } catch (err) {
    throw new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });
  }
  const first = serving[0];
  if (!first)
    throw new ServiceError('not_ready', `no live worker serves model '${model.name}' version ${model.version}`);
  return first.providers[modelKey(model)] ?? 'unknown';
}
