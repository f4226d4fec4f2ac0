import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRepository } from '@tessera/model-repository';
import { prepareRepository } from '@tessera/model-zoo';
import { modelInput } from '../measure/inputs.js';
import { startFloor } from './floor-start.js';
import { createSession, feedsFor } from './ort-session.js';
import { decodeJob, encodeJob } from './floor-protocol.js';

test('a floor job carries its reply channel, id and header length in front of the body, byte for byte', () => {
  const body = Buffer.from([0x7b, 0x0a, 0x00, 0xff]);
  const job = decodeJob(encodeJob('floor:reply:api-1', '42', '2', body));
  assert.deepEqual(
    { ...job, body: [...job.body] },
    { channel: 'floor:reply:api-1', id: '42', headerLength: '2', body: [...body] },
  );
  assert.throws(() => decodeJob(Buffer.from('no lines')), /three header lines/);
});

test(
  'the floor answers through nginx, Redis and its worker what session.run answers in-process',
  { timeout: 120_000 },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'tessera-floor-'));
    const repository = join(work, 'models');
    await prepareRepository(repository, { only: 'test' });
    const spec = (await loadRepository(repository)).get('cost')!;
    const input = await modelInput(spec);
    const session = await createSession(spec.file, 1);
    const expected = await session.run(feedsFor(input.tensors, 1));

    const floor = await startFloor({
      models: ['cost'],
      modelRepository: repository,
      intraOpThreads: 1,
      replicas: 2,
      logDir: join(work, 'logs'),
      verbose: false,
      env: {},
    });
    try {
      const body = Buffer.concat([Buffer.from(input.binary.header), Buffer.from(input.binary.data, 'base64')]);
      // Several at once, so that the worker batches them and splits the answers back.
      const answers = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const res = await fetch(`${floor.baseUrl}/v2/models/cost/infer`, {
            method: 'POST',
            headers: { 'inference-header-content-length': String(input.binary.headerLength) },
            body,
          });
          assert.equal(res.status, 200);
          // The request asks for binary outputs, as tritonclient does: a JSON header, then the bytes.
          const length = Number(res.headers.get('inference-header-content-length'));
          const bytes = Buffer.from(await res.arrayBuffer());
          const header = JSON.parse(bytes.subarray(0, length).toString()) as {
            outputs: { name: string; shape: number[]; parameters: { binary_data_size: number } }[];
          };
          let at = length;
          return {
            outputs: header.outputs.map((o) => {
              const raw = bytes.subarray(at, (at += o.parameters.binary_data_size));
              const copy = new Uint8Array(raw);
              return { ...o, data: Array.from(new Float32Array(copy.buffer)) };
            }),
          };
        }),
      );
      for (const answer of answers) {
        for (const out of answer.outputs) {
          const want = expected[out.name]!;
          assert.deepEqual(out.shape, [...want.dims]);
          // A batch may run other kernels than one item: equal to float32 rounding, not bit for bit.
          const data = Array.from(want.data as Float32Array);
          assert.equal(out.data.length, data.length);
          assert.ok(
            out.data.every((v, i) => Math.abs(v - data[i]!) <= 1e-5),
            `${out.name}: ${out.data.slice(0, 4).join()} vs ${data.slice(0, 4).join()}`,
          );
        }
      }
    } finally {
      await floor.stop();
    }
  },
);
