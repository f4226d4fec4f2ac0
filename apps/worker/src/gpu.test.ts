import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GpuSampler, parseGpuSample } from './gpu.js';

test('parses one nvidia-smi line into a ratio and bytes', () => {
  assert.deepEqual(parseGpuSample('87, 10240, 81559'), {
    utilization: 0.87,
    memoryUsedBytes: 10240 * 2 ** 20,
    memoryTotalBytes: 81559 * 2 ** 20,
  });
});

test('refuses what is not a sample', () => {
  for (const line of ['', '[N/A], 1, 2', '1, 2', 'No devices were found'])
    assert.equal(parseGpuSample(line), undefined, line);
});

describe('GpuSampler', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'gpu-sampler-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  /** A stand-in nvidia-smi that logs each call and prints one sample line. */
  async function fakeSmi(name: string): Promise<{ path: string; calls: () => Promise<number> }> {
    const path = join(dir, name);
    const log = `${path}.calls`;
    await writeFile(path, `#!/bin/sh\necho "$@" >> '${log}'\necho '50, 1024, 2048'\n`);
    await chmod(path, 0o755);
    const calls = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    return { path, calls };
  }

  test('samples at every call while nvidia-smi answers', async () => {
    const smi = await fakeSmi('answers');
    const sampler = new GpuSampler(3, smi.path);
    assert.deepEqual(await sampler.sample(), { utilization: 0.5, memoryUsedBytes: 2 ** 30, memoryTotalBytes: 2 ** 31 });
    await sampler.sample();
    assert.equal(await smi.calls(), 2);
    assert.equal(sampler.available, true);
  });

  test('where nvidia-smi is missing, spawns it once and never again', async () => {
    const path = join(dir, 'appears-later');
    const sampler = new GpuSampler(0, path);
    assert.equal(await sampler.sample(), undefined);
    assert.equal(sampler.available, false);
    // Were it spawned again, this one would answer and log the call.
    const smi = await fakeSmi('appears-later');
    assert.equal(smi.path, path);
    assert.equal(await sampler.sample(), undefined);
    assert.equal(await smi.calls(), 0);
  });

  test('a run that fails is tried again at the next call', async () => {
    const path = join(dir, 'fails');
    await writeFile(path, `#!/bin/sh\necho x >> '${path}.calls'\nexit 9\n`);
    await chmod(path, 0o755);
    const sampler = new GpuSampler(0, path);
    assert.equal(await sampler.sample(), undefined);
    assert.equal(await sampler.sample(), undefined);
    assert.equal((await readFile(`${path}.calls`, 'utf8')).split('\n').filter(Boolean).length, 2);
    assert.equal(sampler.available, true);
  });
});
