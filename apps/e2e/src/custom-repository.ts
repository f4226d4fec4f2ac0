import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelRepository } from './repository.js';

export interface ModelCopy {
  /** Model of the prepared repository whose graph and config.json this one starts from. */
  from: string;
  versions?: string[];
  /** config.json fields to set (name is set to the new model's name). */
  config?: Record<string, unknown>;
}

/** A repository of copies of prepared models under new names, versions and settings. */
export async function customRepository(models: Record<string, ModelCopy>): Promise<string> {
  const source = await modelRepository();
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-models-'));
  for (const [name, copy] of Object.entries(models)) {
    const config = JSON.parse(await readFile(path.join(source, copy.from, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await mkdir(path.join(dir, name), { recursive: true });
    await writeFile(path.join(dir, name, 'config.json'), JSON.stringify({ ...config, ...copy.config, name }, null, 2));
    for (const version of copy.versions ?? ['1']) {
      await mkdir(path.join(dir, name, version), { recursive: true });
      await copyFile(path.join(source, copy.from, '1', 'model.onnx'), path.join(dir, name, version, 'model.onnx'));
    }
  }
  return dir;
}
