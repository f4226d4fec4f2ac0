import path from 'node:path';
import { prepareRepository } from '@tessera/model-zoo';
import { prepareQuantizedVersions } from '@tessera/quantize';

/** The model repository the tests use: the one `npm test` prepared, or a fresh one. */
export async function modelRepository(): Promise<string> {
  const dir = process.env.MODEL_REPOSITORY ?? path.resolve(process.cwd(), '.run/models');
  await prepareRepository(dir, { only: 'all' });
  await prepareQuantizedVersions(dir); // a no-op where bootstrap already prepared them
  return dir;
}
