import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelSpec, VersionPolicy } from '@tessera/contract';
import { readSignature } from '@tessera/onnx';
import { checkModelConfig } from './model-config.js';
import { ModelRepository } from './model-repository.js';
import { RepositoryError, type RepositoryProblem } from './repository-error.js';
import { resolveModelSpec } from './resolve-spec.js';

const VERSION = /^[1-9][0-9]*$/;

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** The versions a policy serves, in numeric order (Triton's `version_policy`). */
export function selectVersions(versions: readonly string[], policy: VersionPolicy): string[] {
  const sorted = [...versions].sort((a, b) => Number(a) - Number(b));
  if ('latest' in policy) return sorted.slice(-policy.latest.num_versions);
  if ('specific' in policy) return sorted.filter((v) => policy.specific.versions.includes(Number(v)));
  return sorted;
}

async function loadModel(
  dir: string,
  name: string,
  problems: RepositoryProblem[],
  override?: unknown,
): Promise<ModelSpec[]> {
  const modelDir = join(dir, name);
  const configFile = join(modelDir, 'config.json');
  const complain = (file: string, message: string) => problems.push({ file, message });

  let raw: unknown = override;
  if (raw === undefined) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch {
      complain(configFile, 'missing config.json (every model directory needs one)');
      return [];
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      complain(configFile, `not valid JSON: ${(err as Error).message}`);
      return [];
    }
  }
  const checked = checkModelConfig(raw, configFile);
  if (typeof raw === 'object' && raw !== null && 'name' in raw && typeof raw.name === 'string' && raw.name !== name) {
    complain(configFile, `name '${raw.name}' does not match its directory '${name}'`);
  }

  const versions: string[] = [];
  for (const entry of await readdir(modelDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (VERSION.test(entry.name)) versions.push(entry.name);
    else if (/^\d+$/.test(entry.name))
      complain(join(modelDir, entry.name), 'version directories are positive integers without leading zeros');
  }
  if (versions.length === 0) complain(modelDir, 'no version directories (expected e.g. 1/model.onnx)');
  if ('problems' in checked) {
    problems.push(...checked.problems);
    return [];
  }
  const { config } = checked;

  const specs: ModelSpec[] = [];
  for (const version of selectVersions(versions, config.version_policy as VersionPolicy)) {
    const file = resolve(modelDir, version, config.default_model_filename);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch {
      complain(file, `missing model file for version ${version}`);
      continue;
    }
    let signature;
    try {
      signature = readSignature(bytes);
    } catch (err) {
      complain(file, `not a readable ONNX model: ${(err as Error).message}`);
      continue;
    }
    const resolved = resolveModelSpec(config, signature, { version, file });
    if ('problems' in resolved) for (const message of resolved.problems) complain(file, message);
    else
      specs.push({
        ...resolved.spec,
        digest: createHash('sha256').update(bytes).digest('hex'),
        versionPolicy: config.version_policy as VersionPolicy,
      });
  }
  return specs;
}

export interface RepositoryOptions {
  /** Models left out (unloaded through the repository API). */
  unloaded?: ReadonlySet<string>;
  /** Configurations given with a load request, used instead of the model's config.json. */
  configs?: Readonly<Record<string, unknown>>;
}

/**
 * Loads and validates a Triton-style repository: `<dir>/<model>/config.json` and
 * `<dir>/<model>/<version>/model.onnx`. Throws one RepositoryError listing every problem.
 */
export async function loadRepository(dir: string, options: RepositoryOptions = {}): Promise<ModelRepository> {
  const root = resolve(dir);
  if (!(await isDirectory(root)))
    throw new RepositoryError([{ file: root, message: 'model repository directory does not exist' }]);
  const problems: RepositoryProblem[] = [];
  const specs: ModelSpec[] = [];
  const entries = (await readdir(root, { withFileTypes: true })).filter(
    (e) => e.isDirectory() && !e.name.startsWith('.'),
  );
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (options.unloaded?.has(entry.name)) continue;
    specs.push(...(await loadModel(root, entry.name, problems, options.configs?.[entry.name])));
  }
  if (entries.length === 0) problems.push({ file: root, message: 'no model directories' });
  if (problems.length > 0) throw new RepositoryError(problems);
  return new ModelRepository(root, specs);
}
