import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseModelConfig } from './model-config.js';
import { RepositoryError } from './repository-error.js';

function problemsOf(raw: unknown): string[] {
  try {
    parseModelConfig(raw, '/r/m/config.json');
  } catch (err) {
    assert.ok(err instanceof RepositoryError);
    for (const p of err.problems) assert.equal(p.file, '/r/m/config.json');
    return err.problems.map((p) => p.message);
  }
  assert.fail('expected a RepositoryError');
}

test('defaults fill a minimal config', () => {
  const c = parseModelConfig({ name: 'm' });
  assert.equal(c.platform, 'onnxruntime_onnx');
  assert.equal(c.max_batch_size, 64);
  assert.equal(c.max_queue_delay_ms, 2);
  assert.equal(c.max_items_per_request, 64);
  assert.deepEqual(c.execution_providers, ['cuda', 'cpu']);
  assert.equal(c.default_model_filename, 'model.onnx');
  assert.deepEqual(c.labels, {});
  assert.equal(c.inputs, undefined);
});

test('max_items_per_request defaults to max_batch_size, or 1 without batching', () => {
  assert.equal(parseModelConfig({ name: 'm', max_batch_size: 8 }).max_items_per_request, 8);
  assert.equal(parseModelConfig({ name: 'm', max_batch_size: 0 }).max_items_per_request, 1);
  assert.equal(parseModelConfig({ name: 'm', max_queue_delay_ms: 0 }).max_queue_delay_ms, 0);
});

test('cache, queue cap and deadline: defaults and overrides', () => {
  const d = parseModelConfig({ name: 'm' });
  assert.deepEqual(d.cache, { enabled: true, ttl_s: 300, max_entry_bytes: 1024 * 1024 });
  assert.equal(d.max_queue_items, 4096);
  assert.equal(d.timeout_ms, undefined);
  const c = parseModelConfig({ name: 'm', cache: { enabled: false }, max_queue_items: 8, timeout_ms: 250 });
  assert.deepEqual(c.cache, { enabled: false, ttl_s: 300, max_entry_bytes: 1024 * 1024 });
  assert.equal(c.max_queue_items, 8);
  assert.equal(c.timeout_ms, 250);
  assert.match(problemsOf({ name: 'm', max_queue_items: 0 })[0]!, /^max_queue_items:/);
  assert.match(problemsOf({ name: 'm', cache: { ttl: 5 } })[0]!, /^cache/);
});

test('text is parsed, and invalid JSON is reported', () => {
  assert.equal(parseModelConfig('{"name":"m"}').name, 'm');
  assert.match(problemsOf('{"name":')[0]!, /^not valid JSON/);
});

test('unknown keys are errors, at any depth', () => {
  const problems = problemsOf({ name: 'm', max_batch: 4, inputs: [{ name: 'x', dims: [4] }] });
  assert.ok(problems.includes('Unrecognized key: "max_batch"'), problems.join('\n'));
  assert.ok(problems.includes('inputs[0]: Unrecognized key: "dims"'), problems.join('\n'));
});

test('an unknown datatype names the choices', () => {
  const [p] = problemsOf({ name: 'm', inputs: [{ name: 'x', datatype: 'FLOAT32' }] });
  assert.match(p!, /^inputs\[0\]\.datatype: unknown datatype "FLOAT32"; expected one of BOOL, .*FP32/);
});

test('all problems in a file are reported together', () => {
  const problems = problemsOf({
    name: '',
    platform: 'tensorflow',
    max_batch_size: 2048,
    max_queue_delay_ms: -1,
    execution_providers: ['tpu', 'cpu', 'cpu'],
    inputs: [{ name: 'x', shape: [0, 4], pad: [{ axis: -1, value: 0 }] }],
    outputs: [{ name: 'y', crop: [{ axis: 0, input: 'x', input_axis: 0, scale: 0 }] }],
    labels: { n: 1 },
  });
  const expect = [
    /^name:/,
    /^platform: platform must be "onnxruntime_onnx"/,
    /^max_batch_size: Too big/,
    /^max_queue_delay_ms: Too small/,
    /^execution_providers\[0\]: unknown execution provider "tpu"/,
    /^inputs\[0\]\.shape\[0\]: dimensions are positive sizes or -1/,
    /^inputs\[0\]\.pad\[0\]\.axis: Too small/,
    /^outputs\[0\]\.crop\[0\]\.scale: Too small/,
    /^labels\.n:/,
  ];
  for (const re of expect)
    assert.ok(
      problems.some((p) => re.test(p)),
      `${re} not in:\n${problems.join('\n')}`,
    );
});

test('repeated providers and tensor names are errors', () => {
  assert.ok(problemsOf({ name: 'm', execution_providers: ['cpu', 'cpu'] }).some((p) => /must not repeat/.test(p)));
  assert.ok(problemsOf({ name: 'm', execution_providers: [] }).some((p) => /^execution_providers:/.test(p)));
  assert.ok(
    problemsOf({ name: 'm', inputs: [{ name: 'x' }, { name: 'x' }] }).includes('inputs: input names must be unique'),
  );
  assert.ok(
    problemsOf({ name: 'm', outputs: [{ name: 'y' }, { name: 'y' }] }).includes('outputs: output names must be unique'),
  );
});

test('max_items_per_request may not exceed max_batch_size', () => {
  assert.deepEqual(problemsOf({ name: 'm', max_batch_size: 4, max_items_per_request: 5 }), [
    'max_items_per_request (5) exceeds max_batch_size (4)',
  ]);
  assert.deepEqual(problemsOf({ name: 'm', max_batch_size: 0, max_items_per_request: 2 }), [
    'max_items_per_request must be 1 when max_batch_size is 0 (the model has no batch dimension)',
  ]);
  // Reported alongside unrelated problems, not only once the rest is valid.
  assert.equal(problemsOf({ name: 'm', bogus: 1, max_batch_size: 4, max_items_per_request: 5 }).length, 2);
});

test('default_model_filename must be a plain file name', () => {
  assert.ok(problemsOf({ name: 'm', default_model_filename: '../x.onnx' }).some((p) => /plain file name/.test(p)));
  assert.equal(parseModelConfig({ name: 'm', default_model_filename: 'det.onnx' }).default_model_filename, 'det.onnx');
});
