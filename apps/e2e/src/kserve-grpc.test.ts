import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createApiKey, findRepoRoot, startStack, type Stack } from '@tessera/topology';
import { modelRepository } from './repository.js';

/**
 * KServe's own gRPC client, InferenceGRPCClient from python/kserve/kserve/inference_client.py,
 * run unchanged against the gateway's gRPC port by clients/kserve-grpc/check.py. KServe is not
 * packaged and nothing is downloaded at run time: the test runs when KSERVE_SOURCE names a KServe
 * checkout's python/kserve directory (the one holding the kserve package), with Debian's Python
 * packages listed in check.py.
 */
const source = process.env.KSERVE_SOURCE;
const script = path.join(findRepoRoot(), 'apps/e2e/clients/kserve-grpc/check.py');
const skip = source && existsSync(path.join(source, 'kserve/inference_client.py')) ? false : 'KSERVE_SOURCE is not set';
let stack: Stack;
let key: string;

before(async () => {
  if (skip) return;
  stack = await startStack({
    replicas: 2,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-kserve-')),
    env: { LOG_LEVEL: 'warn' },
    workerEnv: { MODELS: 'affine' },
  });
  key = (await createApiKey({ redisUrl: stack.redisUrl, name: 'kserve', scopes: ['infer'] })).key;
});

after(async () => {
  await stack?.stop();
});

test(
  "KServe's InferenceGRPCClient: live, ready, model ready and metadata, infer with raw and typed contents, no key refused",
  { skip },
  async (t) => {
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [script, source!, stack.grpcAddress, key], {
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    t.diagnostic(JSON.stringify(out));
    assert.equal(out.live, true);
    assert.equal(out.ready, true);
    assert.equal(out.model_ready, true);
    assert.deepEqual(out.metadata.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    for (const kind of ['raw', 'typed']) {
      assert.equal(out[kind].id, `kserve-${kind === 'raw' ? 'True' : 'False'}`, kind);
      assert.deepEqual(out[kind].outputs.y, [
        [1, 3, 5, 7],
        [9, 11, 13, 15],
      ]);
      assert.deepEqual(out[kind].outputs.sum, [16, 48], kind);
    }
    assert.equal(out.no_key, 'UNAUTHENTICATED');
  },
);
