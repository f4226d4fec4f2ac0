import type { ModelSpec } from './model-spec.js';

/**
 * One model version as a single string, `name@version`: the key of per-version maps in every
 * tier and of a worker's advertised models, providers and caps (WorkerInfo). Model names never
 * hold an '@' (they name queues: [A-Za-z0-9_.-]), so the last '@' splits a key back.
 */
export function modelKey(model: Pick<ModelSpec, 'name' | 'version'>): string {
  return `${model.name}@${model.version}`;
}

/** The name and version of a `modelKey`; undefined for a string that is not one. */
export function parseModelKey(key: string): { name: string; version: string } | undefined {
  const at = key.lastIndexOf('@');
  if (at <= 0 || at === key.length - 1) return undefined;
  return { name: key.slice(0, at), version: key.slice(at + 1) };
}
