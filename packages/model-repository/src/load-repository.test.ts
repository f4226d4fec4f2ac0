import assert from 'node:assert/strict';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRepository } from './load-repository.js';
import { RepositoryError } from './repository-error.js';
import { affineGraph, tempRepo, tokensGraph, writeModel } from './test-fixtures.js';

const repos: string[] = [];
after(async () => {
  await Promise.all(repos.map((r) => rm(r, { recursive: true, force: true })));
});

async function repo(): Promise<string> {
  const dir = await tempRepo();
  repos.push(dir);
  return dir;
}

async function problemsOf(dir: string): Promise<{ file: string; message: string }[]> {
  try {
    await loadRepository(dir);
  } catch (err) {
    assert.ok(err instanceof RepositoryError, String(err));
    return err.problems;
  }
  assert.fail('expected a RepositoryError');
}

async function messages(dir: string): Promise<string[]> {
  return (await problemsOf(dir)).map((p) => p.message);
}

test('inputs and outputs come from the graph when config omits them', async () => {
  const dir = await repo();
  await writeModel(dir, 'affine', { name: 'affine', labels: { task: 'test' } }, affineGraph());
  const r = await loadRepository(dir);
  assert.deepEqual(r.names(), ['affine']);
  const { digest, ...spec } = r.get('affine')!;
  assert.match(digest!, /^[0-9a-f]{64}$/, 'the model file digest keys cached results');
  assert.deepEqual(spec, {
    name: 'affine',
    version: '1',
    platform: 'onnxruntime_onnx',
    file: join(dir, 'affine', '1', 'model.onnx'),
    maxBatchSize: 64,
    maxQueueDelayMs: 2,
    maxItemsPerRequest: 64,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [4] }],
    executionProviders: ['cuda', 'cpu'],
    labels: { task: 'test' },
    cache: { enabled: true, ttlS: 300, maxEntryBytes: 1024 * 1024 },
    maxQueueItems: 4096,
    versionPolicy: { all: {} },
  });
});

test('version_policy selects the versions served; a load may replace config.json or leave a model out', async () => {
  const dir = await repo();
  await writeModel(dir, 'affine', { name: 'affine', version_policy: { latest: { num_versions: 1 } } }, affineGraph());
  await cp(join(dir, 'affine', '1'), join(dir, 'affine', '2'), { recursive: true });
  await writeModel(dir, 'other', { name: 'other' }, affineGraph());
  assert.deepEqual((await loadRepository(dir)).versions('affine'), ['2']);
  const loaded = await loadRepository(dir, {
    configs: { affine: { name: 'affine', version_policy: { all: {} } } },
    unloaded: new Set(['other']),
  });
  assert.deepEqual(loaded.versions('affine'), ['1', '2']);
  assert.deepEqual(loaded.names(), ['affine']);
});

test('config entries add pad and crop rules and narrow variable dims', async () => {
  const dir = await repo();
  await writeModel(
    dir,
    'tokens',
    {
      name: 'tokens',
      max_batch_size: 8,
      inputs: [{ name: 'ids', pad: [{ axis: 0, value: 0 }] }],
      outputs: [{ name: 'echo', datatype: 'INT64', shape: [-1], crop: [{ axis: 0, input: 'ids', input_axis: 0 }] }],
    },
    tokensGraph(),
  );
  const spec = (await loadRepository(dir)).get('tokens')!;
  assert.deepEqual(spec.inputs, [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 0 }] }]);
  assert.deepEqual(spec.outputs, [
    { name: 'total', datatype: 'INT64', shape: [] },
    { name: 'echo', datatype: 'INT64', shape: [-1], crop: [{ axis: 0, input: 'ids', inputAxis: 0, scale: 1 }] },
  ]);

  const narrow = await repo();
  await writeModel(narrow, 'tokens', { name: 'tokens', inputs: [{ name: 'ids', shape: [16] }] }, tokensGraph());
  assert.deepEqual((await loadRepository(narrow)).get('tokens')!.inputs[0]!.shape, [16]);
});

test('max_batch_size 0 keeps the whole graph shape', async () => {
  const dir = await repo();
  await writeModel(dir, 'fixed', { name: 'fixed', max_batch_size: 0 }, affineGraph(2));
  const spec = (await loadRepository(dir)).get('fixed')!;
  assert.deepEqual(spec.inputs[0]!.shape, [2, 4]);
  assert.equal(spec.maxItemsPerRequest, 1);
});

test('versions sort numerically, the default is the highest, and the file name is configurable', async () => {
  const dir = await repo();
  const config = { name: 'affine', default_model_filename: 'net.onnx' };
  for (const version of ['2', '10', '1'])
    await writeModel(dir, 'affine', config, affineGraph(), { version, file: 'net.onnx' });
  await mkdir(join(dir, 'affine', 'notes'));
  await writeFile(join(dir, 'affine', 'labels.txt'), 'a\nb\n');
  await writeFile(join(dir, '.fingerprint'), 'x');
  await mkdir(join(dir, '.cache'));
  const r = await loadRepository(dir);
  assert.deepEqual(r.versions('affine'), ['1', '2', '10']);
  assert.equal(r.get('affine')!.version, '10');
  assert.equal(r.get('affine', '2')!.file, join(dir, 'affine', '2', 'net.onnx'));
  assert.equal(r.get('affine', '3'), undefined);
  assert.equal(r.get('nope'), undefined);
  assert.deepEqual(r.versions('nope'), []);
  assert.deepEqual(
    r.all().map((s) => s.version),
    ['1', '2', '10'],
  );
});

test('a missing or empty repository is an error', async () => {
  assert.match((await messages('/nonexistent/tessera-repo'))[0]!, /does not exist/);
  assert.deepEqual(await messages(await repo()), ['no model directories']);
});

test('config name must equal the directory name', async () => {
  const dir = await repo();
  await writeModel(dir, 'affine', { name: 'other' }, affineGraph());
  const [p] = await problemsOf(dir);
  assert.deepEqual(p, {
    file: join(dir, 'affine', 'config.json'),
    message: "name 'other' does not match its directory 'affine'",
  });
});

test('missing config, invalid JSON, missing versions and missing model files', async () => {
  const dir = await repo();
  await writeModel(dir, 'a', undefined, affineGraph());
  await writeModel(dir, 'b', '{ nope', affineGraph());
  await mkdir(join(dir, 'c'));
  await writeFile(join(dir, 'c', 'config.json'), JSON.stringify({ name: 'c' }));
  await writeModel(dir, 'd', { name: 'd' }, undefined);
  await writeModel(dir, 'e', { name: 'e' }, affineGraph(), { version: '0' });
  await writeFile(join(dir, 'f-not-onnx'), '');
  await writeModel(dir, 'g', { name: 'g' }, undefined);
  await writeFile(join(dir, 'g', '1', 'model.onnx'), Uint8Array.from([0x0a, 0xff]));
  const problems = await problemsOf(dir);
  const has = (file: string, re: RegExp) =>
    assert.ok(
      problems.some((p) => p.file === join(dir, file) && re.test(p.message)),
      `${file} ${re} not in ${JSON.stringify(problems, null, 1)}`,
    );
  has('a/config.json', /missing config\.json/);
  has('b/config.json', /not valid JSON/);
  has('c', /no version directories/);
  has('d/1/model.onnx', /missing model file for version 1/);
  has('e/0', /positive integers/);
  has('e', /no version directories/);
  has('g/1/model.onnx', /not a readable ONNX model/);
  assert.equal(problems.length, 7);
});

test('problems across models are collected into one error message', async () => {
  const dir = await repo();
  await writeModel(dir, 'a', { name: 'a', bogus: true }, affineGraph());
  await writeModel(dir, 'b', { name: 'b', inputs: [{ name: 'x', datatype: 'INT32' }] }, affineGraph());
  const err = await loadRepository(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof RepositoryError);
  assert.match(err.message, /2 problems/);
  assert.match(err.message, /a[/\\]config\.json: Unrecognized key: "bogus"/);
  assert.match(err.message, /b[/\\]1[/\\]model\.onnx: config input 'x' has datatype INT32 but the graph says FP32/);
});

test('config tensors must exist in the graph and agree with it', async () => {
  const dir = await repo();
  await writeModel(dir, 'a', { name: 'a', inputs: [{ name: 'z' }], outputs: [{ name: 'w' }] }, affineGraph());
  await writeModel(dir, 'b', { name: 'b', inputs: [{ name: 'x', shape: [4, 1] }] }, affineGraph());
  await writeModel(dir, 'c', { name: 'c', inputs: [{ name: 'x', shape: [5] }] }, affineGraph());
  await writeModel(dir, 'd', { name: 'd', outputs: [{ name: 'y', datatype: 'FP64' }] }, affineGraph());
  const got = await messages(dir);
  assert.deepEqual(got, [
    "config input 'z' is not an input of the graph (graph inputs: 'x')",
    "config output 'w' is not an output of the graph (graph outputs: 'y')",
    "config input 'x' has shape [4,1] (rank 2) but the graph has [4] (rank 1) without the batch dimension",
    "config input 'x' has shape [5] but the graph fixes axis 0 to 4 (graph shape [4] without the batch dimension)",
    "config output 'y' has datatype FP64 but the graph says FP32",
  ]);
});

test('a fixed batch dimension in the graph needs max_batch_size 0', async () => {
  const dir = await repo();
  await writeModel(dir, 'a', { name: 'a' }, affineGraph(1));
  const [m] = await messages(dir);
  assert.match(
    m!,
    /graph input 'x' has a fixed batch dimension 1 \(shape \[1,4\]\); it must be variable when max_batch_size > 0/,
  );
});

test('pad rules: range, fixed dims, duplicates, values and batching', async () => {
  const dir = await repo();
  const pads = (pad: unknown, extra: object = {}) => ({ name: 'p', ...extra, inputs: [{ name: 'ids', pad }] });
  await writeModel(
    dir,
    'p',
    pads([
      { axis: 1, value: 0 },
      { axis: 0, value: 1.5 },
      { axis: 0, value: 0 },
    ]),
    tokensGraph(),
  );
  await writeModel(dir, 'q', { name: 'q', inputs: [{ name: 'x', pad: [{ axis: 0, value: 0 }] }] }, affineGraph());
  await writeModel(
    dir,
    'r',
    { name: 'r', max_batch_size: 0, inputs: [{ name: 'x', shape: [-1, 4], pad: [{ axis: 0, value: 0 }] }] },
    affineGraph(),
  );
  await writeModel(dir, 's', { name: 's', outputs: [{ name: 'y', pad: [{ axis: 0, value: 0 }] }] }, affineGraph());
  const got = await messages(dir);
  assert.deepEqual(got, [
    "input 'ids' pad axis 1 is out of range: shape [-1] has 1 axes (the batch dimension is not counted)",
    "input 'ids' pad axis 0: value 1.5 must be an integer for INT64",
    "input 'ids' pad axis 0 is given twice",
    "input 'x' pad axis 0 is a fixed dimension of size 4 (shape [4]); only variable (-1) dimensions can be padded",
    "input 'x' pad axis 0: padding makes batch items uniform, but max_batch_size is 0",
    "output 'y' has pad rules; padding applies to inputs only",
  ]);
});

test('crop rules: unknown input, unpadded input axis, fixed output dim, range', async () => {
  const dir = await repo();
  const crop = (name: string, rules: unknown, pad: unknown = [{ axis: 0, value: 0 }]) => ({
    name,
    inputs: [{ name: 'ids', pad }],
    outputs: [{ name: 'echo', crop: rules }],
  });
  await writeModel(dir, 'a', crop('a', [{ axis: 0, input: 'nope', input_axis: 0 }]), tokensGraph());
  await writeModel(dir, 'b', crop('b', [{ axis: 0, input: 'ids', input_axis: 0 }], []), tokensGraph());
  await writeModel(dir, 'c', crop('c', [{ axis: 1, input: 'ids', input_axis: 3 }]), tokensGraph());
  await writeModel(
    dir,
    'd',
    { name: 'd', outputs: [{ name: 'y', crop: [{ axis: 0, input: 'x', input_axis: 0 }] }] },
    affineGraph(),
  );
  const got = await messages(dir);
  assert.deepEqual(got, [
    "output 'echo' crop axis 0 follows unknown input 'nope' (inputs: 'ids')",
    "output 'echo' crop axis 0 follows input 'ids' axis 0, which has no pad rule, so there is nothing to crop",
    "output 'echo' crop axis 1 is out of range: shape [-1] has 1 axes (the batch dimension is not counted)",
    "output 'echo' crop axis 1 follows input 'ids' axis 3, which is out of range for shape [-1]",
    "output 'y' crop axis 0 is a fixed dimension of size 4 (shape [4]); only variable (-1) dimensions can be cropped",
    "output 'y' crop axis 0 follows input 'x' axis 0, which has no pad rule, so there is nothing to crop",
  ]);
});

test('max_items_per_request larger than max_batch_size is reported with the file', async () => {
  const dir = await repo();
  await writeModel(dir, 'a', { name: 'a', max_batch_size: 4, max_items_per_request: 8 }, affineGraph());
  assert.deepEqual(await problemsOf(dir), [
    { file: join(dir, 'a', 'config.json'), message: 'max_items_per_request (8) exceeds max_batch_size (4)' },
  ]);
});
