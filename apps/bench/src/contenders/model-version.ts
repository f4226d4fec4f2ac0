import { parseModelKey } from '@tessera/contract';

/** A measured model: its name, or 'name@version' when the bench measures versions (--versions). */
export function splitModel(model: string): { name: string; version?: string } {
  return parseModelKey(model) ?? { name: model };
}

/** The Open Inference Protocol path of a measured model: /v2/models/{name}[/versions/{v}]. */
export function modelPath(model: string): string {
  const { name, version } = splitModel(model);
  return `/v2/models/${encodeURIComponent(name)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
}

/** The models a worker loads for these measured models: names without versions, once each. */
export function modelNames(models: readonly string[]): string[] {
  return [...new Set(models.map((m) => splitModel(m).name))];
}
