import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadRepository } from '@tessera/model-repository';
import { cost } from './models/cost.js';
import { FINGERPRINT_FILE, prepareRepository } from './prepare-repository.js';

let repo: string;
before(async () => {
  repo = await mkdtemp(join(tmpdir(), 'tessera-zoo-prepare-'));
});
after(() => rm(repo, { recursive: true, force: true }));

const statuses = (r: { models: { name: string; status: string }[] }) =>
  Object.fromEntries(r.models.map((m) => [m.name, m.status]));
const small = { memoryHogRepeats: 8 } as const;

test('test models are written once, then left alone', async () => {
  const first = await prepareRepository(repo, { only: 'test', ...small });
  assert.deepEqual(statuses(first), {
    affine: 'written',
    'token-sum': 'written',
    gather: 'written',
    'memory-hog': 'written',
    cost: 'written',
  });
  const before = (await stat(join(repo, 'affine', '1', 'model.onnx'))).mtimeMs;
  const second = await prepareRepository(repo, { only: 'test', ...small });
  assert.ok(Object.values(statuses(second)).every((s) => s === 'unchanged'));
  assert.equal((await stat(join(repo, 'affine', '1', 'model.onnx'))).mtimeMs, before);
  assert.match(await readFile(join(repo, 'affine', FINGERPRINT_FILE), 'utf8'), /^[0-9a-f]{64}\n$/);
});

test('changed options rewrite only the affected model', async () => {
  const r = await prepareRepository(repo, { only: 'test', memoryHogRepeats: 16 });
  assert.deepEqual(statuses(r), {
    affine: 'unchanged',
    'token-sum': 'unchanged',
    gather: 'unchanged',
    'memory-hog': 'written',
    cost: 'unchanged',
  });
  const config = JSON.parse(await readFile(join(repo, 'memory-hog', 'config.json'), 'utf8'));
  assert.equal(config.labels.repeats, '16');
});

test('a missing file or a stale fingerprint is repaired', async () => {
  await unlink(join(repo, 'gather', '1', 'model.onnx'));
  await writeFile(join(repo, 'affine', FINGERPRINT_FILE), 'stale\n');
  const r = await prepareRepository(repo, { only: 'test', memoryHogRepeats: 16 });
  assert.equal(statuses(r).gather, 'written');
  assert.equal(statuses(r).affine, 'written');
  assert.equal(statuses(r).cost, 'unchanged');
});

test('generated test models load as a valid repository', async () => {
  const models = await loadRepository(repo);
  assert.deepEqual(models.names(), ['affine', 'cost', 'gather', 'memory-hog', 'token-sum']);
  const tokens = models.get('token-sum')!;
  assert.deepEqual(tokens.inputs, [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 0 }] }]);
  assert.deepEqual(
    models.get('affine')!.outputs.map((o) => [o.name, o.shape]),
    [
      ['y', [4]],
      ['sum', []],
    ],
  );
  assert.equal(models.get('memory-hog')!.labels.repeats, '16');
  assert.equal(models.get('cost')!.inputs[0]!.shape[0], 256);
});

test('cost weights depend only on the seed', () => {
  const bytes = (seed: number) => {
    const file = cost({ dim: 8, layers: 2, seed }).files()['1/model.onnx']!;
    assert.ok('bytes' in file);
    return Buffer.from(file.bytes);
  };
  assert.ok(bytes(3).equals(bytes(3)));
  assert.ok(!bytes(3).equals(bytes(4)));
});

test('demo models are copied (not linked) and load with their real signatures', async () => {
  const r = await prepareRepository(repo, { only: 'demo' });
  assert.deepEqual(statuses(r), {
    'ocr-det': 'written',
    'ocr-cls': 'written',
    'ocr-rec': 'written',
    lid176: 'written',
  });
  for (const name of ['ocr-det', 'ocr-cls', 'ocr-rec']) {
    const s = await stat(join(repo, name, '1', 'model.onnx'));
    assert.ok(s.isFile() && s.size > 100_000);
  }
  assert.match(await readFile(join(repo, 'ocr-rec', 'ppocr_keys_v1.txt'), 'utf8'), /^\S+\n/);
  const models = await loadRepository(repo);
  const det = models.get('ocr-det')!;
  assert.deepEqual(det.inputs, [{ name: 'x', datatype: 'FP32', shape: [3, -1, -1] }]); // no padding: see ocrDet
  assert.deepEqual(
    det.outputs.map((o) => [o.name, o.shape]),
    [['sigmoid_0.tmp_0', [1, -1, -1]]],
  );
  assert.deepEqual(models.get('ocr-cls')!.inputs[0]!.shape, [3, 48, 192]);
  const rec = models.get('ocr-rec')!;
  // greedy CTC outputs; no padding across widths (see ocrRec), so nothing to crop
  assert.deepEqual(rec.inputs, [{ name: 'x', datatype: 'FP32', shape: [3, 48, -1] }]);
  assert.deepEqual(rec.outputs, [
    { name: 'ids', datatype: 'INT64', shape: [-1] },
    { name: 'scores', datatype: 'FP32', shape: [-1] },
  ]);
  assert.equal(rec.labels.license, 'Apache-2.0');
  assert.match(rec.labels.source!, /^@gutenye\/ocr-models@1\.4\.2/);
  const lid = models.get('lid176')!;
  assert.deepEqual(lid.inputs, [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 0 }] }]);
  assert.deepEqual(
    lid.outputs.map((o) => [o.name, o.shape]),
    [['probs', [176]]],
  );
  assert.match(lid.labels.source!, /^fasttext\.wasm\.js@1\.0\.0 \(lid\.176\.ftz\)$/);
  const names = JSON.parse(await readFile(join(repo, 'lid176', 'labels.json'), 'utf8')) as string[];
  assert.equal(names.length, 176);
  assert.equal(JSON.parse(await readFile(join(repo, 'lid176', 'tokenizer.json'), 'utf8')).format, 'fasttext-tokenizer');
  assert.equal(statuses(await prepareRepository(repo, { only: 'demo' })).lid176, 'unchanged');
  assert.equal(models.names().length, 9);
});

test('the production profile prepares the served models only and removes test models left from before', async () => {
  const r = await prepareRepository(repo, { only: 'production' });
  assert.deepEqual(Object.keys(statuses(r)).sort(), ['lid176', 'ocr-cls', 'ocr-det', 'ocr-rec']);
  assert.deepEqual((await loadRepository(repo)).names().sort(), ['lid176', 'ocr-cls', 'ocr-det', 'ocr-rec']);
  await prepareRepository(repo, { only: 'test', ...small }); // the later tests use them
});
