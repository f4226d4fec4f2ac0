/**
 * Runs in its own process so the address-space limit it sets cannot touch the test runner:
 * loads the tile/sum model under `addressSpaceHeadroomMb`, runs a batch too big for the headroom,
 * resets, runs a small batch, and prints what happened as one JSON line.
 */
import { ServiceError, type Tensor } from '@tessera/contract';
import { addressSpaceLimit } from '../address-space.js';
import { createOrtRunner, isOutOfMemoryError } from '../index.js';
import { ModelDir, recordingLogger, tileSum } from './models.js';

const headroomMb = Number(process.argv[2] ?? 512);
const bigBatch = Number(process.argv[3] ?? 2048);
const smallBatch = Number(process.argv[4] ?? 16);

const dir = new ModelDir();
const model = dir.write(tileSum());
const { lines, logger } = recordingLogger();
const runner = await createOrtRunner({
  device: 'cpu',
  cudaDeviceId: 0,
  intraOpNumThreads: 1,
  logger,
  addressSpaceHeadroomMb: headroomMb,
});
const batch = (n: number): Tensor[] => [
  { name: 'x', datatype: 'FP32', shape: [n, 4], data: new Float32Array(n * 4).fill(1) },
];
const attempt = async (n: number) => {
  try {
    const r = await runner.run(model, batch(n));
    return { ok: true, first: Number(r.outputs[0]!.data[0]), computeMs: r.computeMs };
  } catch (err) {
    return {
      ok: false,
      code: err instanceof ServiceError ? err.code : undefined,
      message: err instanceof Error ? err.message : String(err),
      oom: isOutOfMemoryError(err),
    };
  }
};

await runner.load(model);
const limit = addressSpaceLimit()[0];
const big = await attempt(bigBatch);
await runner.reset(model);
const small = await attempt(smallBatch);
const bigAgain = await attempt(bigBatch);
const smallAgain = await attempt(smallBatch);
await runner.close();
dir.remove();
process.stdout.write(
  `${JSON.stringify({ limitMb: limit / 2 ** 20, big, small, bigAgain, smallAgain, log: lines.map((l) => l.msg) })}\n`,
);
