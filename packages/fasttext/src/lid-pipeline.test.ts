import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ServiceError, type InferCall, type Infer, type Pipeline } from '@tessera/contract';
import { CONVERTED_FILES } from './convert.js';
import { createLidPipeline, type LidResult } from './lid-pipeline.js';
import { referenceModel, sessionInfer, writeConverted } from './reference-model.js';

let dir: string;
let cleanup: () => Promise<void>;
let pipeline: Pipeline;
before(async () => {
  ({ dir, cleanup } = await writeConverted());
  pipeline = await createLidPipeline(dir, { maxTexts: 4, maxTextLength: 20, maxTokens: 30 });
});
after(() => cleanup());

const neverCalled: Infer = () => Promise.reject(new Error('infer must not run for an invalid request'));

async function rejects(body: Record<string, unknown>, message: RegExp): Promise<void> {
  await assert.rejects(
    pipeline.predict(body, neverCalled),
    (e: unknown) =>
      e instanceof ServiceError && e.code === 'invalid_input' && e.status === 400 && message.test(e.message),
  );
}

test('identity: lid176 reads texts and calls model lid176', () => {
  assert.deepEqual([pipeline.name, pipeline.input, pipeline.models], ['lid176', 'texts', ['lid176']]);
});

test('invalid texts are refused with 400 naming the problem', async () => {
  await rejects({ texts: 'hello' }, /'texts' must be an array of strings/);
  await rejects({ texts: [] }, /'texts' is empty/);
  await rejects({ texts: ['a', 'b', 'c', 'd', 'e'] }, /5 texts; at most 4 per request/);
  await rejects({ texts: ['ok', 7] }, /texts\[1\] must be a string, got number/);
  await rejects({ texts: ['ok', null] }, /texts\[1\] must be a string, got null/);
  await rejects({ texts: ['ok', 'ok', ''] }, /texts\[2\] is empty/);
  await rejects({ texts: ['ok', 'ab\ud800'] }, /texts\[1\] is not well-formed Unicode/);
  await rejects({ texts: ['x'.repeat(21)] }, /texts\[0\] has 21 characters; at most 20/);
  // Characters are code points: 20 emoji (40 UTF-16 units) fit.
  await assert.rejects(pipeline.predict({ texts: ['😀'.repeat(20)] }, neverCalled), /infer must not run/);
  // Every position of a repeated letter emits its kept n-grams again (fastText does not dedupe): 39 rows.
  await rejects({ texts: ['a'.repeat(20)] }, /texts\[0\] makes 39 tokens; at most 30/);
});

test('invalid k is refused with 400', async () => {
  for (const k of [0, 177, 1.5, '3', null])
    await rejects({ texts: ['hello'], k }, /'k' must be an integer from 1 to 176/);
});

test('all texts go in one call, padded with 0 to the longest row', async () => {
  const calls: InferCall[] = [];
  const infer: Infer = async (call) => {
    calls.push(call);
    const n = call.inputs[0]!.shape[0]!;
    const probs = new Float32Array(n * 176);
    for (let i = 0; i < n; i++) probs.set([0.5, 0.2, 0.3], i * 176);
    return {
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [n, 176], data: probs }],
      timing: { queueMs: 0, computeMs: 0, batchSize: n },
      provider: 'cpu',
    };
  };
  const results = (await pipeline.predict({ texts: ['de', 'Bonjour le monde'], k: 2 }, infer)) as LidResult[];
  assert.equal(calls.length, 1);
  const [call] = calls;
  assert.equal(call!.model, 'lid176');
  assert.deepEqual(call!.outputs, ['probs']);
  const ids = call!.inputs[0]!;
  assert.equal(ids.name, 'ids');
  assert.equal(ids.datatype, 'INT64');
  const [n, width] = ids.shape;
  assert.equal(n, 2);
  const first = Array.from(ids.data.subarray(0, width!), Number);
  const second = Array.from(ids.data.subarray(width!, 2 * width!), Number);
  assert.ok(
    second.every((v) => v > 0),
    'the longest row has no padding',
  );
  assert.ok(
    first.includes(0) && first.slice(first.indexOf(0)).every((v) => v === 0),
    'the shorter row ends in padding',
  );
  assert.deepEqual(results[0], {
    label: 'en',
    score: 0.5,
    top: [
      { label: 'en', score: 0.5 },
      { label: 'de', score: 0.30000001192092896 },
    ],
  });
});

test('a model answer without probs [texts, 176] is an internal error', async () => {
  const infer: Infer = async () => ({
    outputs: [],
    timing: { queueMs: 0, computeMs: 0, batchSize: 1 },
    provider: 'cpu',
  });
  await assert.rejects(
    pipeline.predict({ texts: ['hello'] }, infer),
    (e: unknown) => e instanceof ServiceError && e.code === 'internal',
  );
});

test('real model: top-k labels and scores match fastText, scores never above 1', async () => {
  const ref = await referenceModel();
  const { infer, release } = await sessionInfer(join(dir, CONVERTED_FILES.model));
  try {
    const texts = ['Bonjour à tous', 'Добрый день', 'Guten Tag, Welt', '我们都是人'];
    const results = (await pipeline.predict({ texts, k: 3 }, infer)) as LidResult[];
    assert.deepEqual(
      results.map((r) => r.label),
      ['fr', 'ru', 'de', 'zh'],
    );
    results.forEach((r, i) => {
      const expected = ref.predict(texts[i]!, 3);
      assert.deepEqual(
        r.top.map((x) => x.label),
        expected.map((x) => x.label),
      );
      r.top.forEach((x, j) => assert.ok(Math.abs(x.score - Math.min(1, expected[j]!.prob)) < 1e-5 && x.score <= 1));
      assert.deepEqual({ label: r.label, score: r.score }, r.top[0]);
    });
  } finally {
    await release();
  }
});

test('a model directory without its files is reported with the path', async () => {
  await assert.rejects(
    createLidPipeline(join(dir, 'nope'), { maxTexts: 1, maxTextLength: 1 }),
    /cannot read .*nope.*labels\.json/,
  );
});
