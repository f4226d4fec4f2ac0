import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createOrtRunner, providerPlan } from './index.js';
import { ModelDir, recordingLogger, reluArgmax } from './testing/models.js';
import type { ModelSpec, Tensor } from '@tessera/contract';

const dir = new ModelDir();
after(() => dir.remove());
const options = { cudaDeviceId: 0, intraOpNumThreads: 1 } as const;
const spec = (executionProviders: ModelSpec['executionProviders']) =>
  ({ name: 'm', version: '1', executionProviders }) as ModelSpec;

/** Whether this onnxruntime-node install has the CUDA provider libraries next to its binding. */
function cudaInstalled(): boolean {
  if (process.platform !== 'linux') return false;
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return existsSync(
    join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'),
  );
}
const noCuda = !cudaInstalled();

test('provider plans follow the model preference filtered by the device setting', () => {
  assert.deepEqual(providerPlan(spec(['cuda', 'cpu']), 'auto'), ['cuda', 'cpu']);
  assert.deepEqual(providerPlan(spec(['cpu', 'cuda']), 'auto'), ['cpu', 'cuda']);
  assert.deepEqual(providerPlan(spec([]), 'auto'), ['cuda', 'cpu']);
  assert.deepEqual(providerPlan(spec(['cuda', 'cpu']), 'cpu'), ['cpu']);
  assert.deepEqual(providerPlan(spec(['cuda']), 'cpu'), ['cpu']);
  assert.deepEqual(providerPlan(spec(['cuda', 'cpu']), 'cuda'), ['cuda']);
  assert.throws(
    () => providerPlan(spec(['cpu']), 'cuda'),
    /allows only \[cpu\] but this worker is configured with device=cuda/,
  );
});

test(
  "'auto' falls back to CPU with exactly one warning when CUDA cannot load",
  { skip: !noCuda && 'CUDA is installed here' },
  async () => {
    const { lines, logger } = recordingLogger();
    const runner = await createOrtRunner({ ...options, device: 'auto', logger });
    try {
      const first = dir.write({ ...reluArgmax(), name: 'auto_a' });
      const second = dir.write({ ...reluArgmax(), name: 'auto_b' });
      assert.equal((await runner.load(first)).provider, 'cpu');
      assert.equal((await runner.load(second)).provider, 'cpu');
      const x: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) };
      assert.equal((await runner.run(second, [x])).provider, 'cpu');
      const warnings = lines.filter((l) => l.level === 'warn');
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0]!.msg, /^CUDA unavailable, falling back to CPU: .*Failed to load shared library/);
      assert.match(warnings[0]!.msg, /libonnxruntime_providers_cuda\.so/);
      assert.equal(lines.filter((l) => l.level === 'error').length, 0);
    } finally {
      await runner.close();
    }
  },
);

test("'cuda' fails clearly when CUDA cannot load", { skip: !noCuda && 'CUDA is installed here' }, async () => {
  const runner = await createOrtRunner({ ...options, device: 'cuda', logger: recordingLogger().logger });
  try {
    await assert.rejects(
      runner.load(dir.write({ ...reluArgmax(), name: 'cuda_only' })),
      /CUDA execution provider could not be used for model 'cuda_only' version 1: .*Failed to load shared library/,
    );
  } finally {
    await runner.close();
  }
});

test("'cpu' never tries CUDA", async () => {
  const { lines, logger } = recordingLogger();
  const runner = await createOrtRunner({ ...options, device: 'cpu', logger });
  try {
    assert.equal((await runner.load(dir.write({ ...reluArgmax(), name: 'cpu_only' }))).provider, 'cpu');
    assert.equal(lines.filter((l) => l.level !== 'info').length, 0);
  } finally {
    await runner.close();
  }
});
