import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateInferenceRequest } from './validate.js';
import { ServiceError } from './errors.js';
import type { ModelSpec } from './model-spec.js';

const model: ModelSpec = {
  name: 'm',
  version: '1',
  platform: 'onnxruntime_onnx',
  file: '/dev/null',
  maxBatchSize: 8,
  maxQueueDelayMs: 0,
  maxItemsPerRequest: 4,
  executionProviders: ['cpu'],
  labels: {},
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [2] },
    { name: 'ids', datatype: 'INT64', shape: [-1] },
  ],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [2] }],
};

const good = () => ({
  id: 'r1',
  inputs: [
    {
      name: 'x',
      datatype: 'FP32',
      shape: [2, 2],
      data: [
        [1, 2],
        [3, 4],
      ],
    },
    { name: 'ids', datatype: 'INT64', shape: [2, 3], data: [1, 2, 3, 4, 5, '9007199254740993'] },
  ],
});

function rejects(body: unknown, code: string, pattern: RegExp): void {
  assert.throws(
    () => validateInferenceRequest(model, body),
    (e: unknown) => {
      assert.ok(e instanceof ServiceError, 'a ServiceError');
      assert.equal(e.code, code);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('a valid request is converted in model input order, nested or flat', () => {
  const body = good();
  body.inputs.reverse();
  const v = validateInferenceRequest(model, body);
  assert.equal(v.items, 2);
  assert.deepEqual(
    v.tensors.map((t) => t.name),
    ['x', 'ids'],
  );
  assert.deepEqual(Array.from(v.tensors[0]!.data as Float32Array), [1, 2, 3, 4]);
  assert.equal((v.tensors[1]!.data as BigInt64Array)[5], 9007199254740993n);
  assert.equal(v.outputs, undefined);
});

test('requested outputs are checked', () => {
  assert.deepEqual(validateInferenceRequest(model, { ...good(), outputs: [{ name: 'y' }] }).outputs, ['y']);
  rejects({ ...good(), outputs: [{ name: 'z' }] }, 'invalid_input', /unknown output 'z'/);
});

test('bad bodies are rejected with a message naming the problem', () => {
  rejects([], 'bad_request', /JSON object/);
  rejects({ inputs: [] }, 'bad_request', /non-empty/);
  // The envelope by its schema: its own fields are the request's, a field inside an input is the input's.
  rejects({ ...good(), id: 7 }, 'bad_request', /'id' must be a string, got number/);
  rejects({ ...good(), parameters: [] }, 'bad_request', /'parameters' must be a JSON object/);
  rejects({ inputs: [{ name: 1 }] }, 'invalid_input', /inputs\[0\]\.name must be a string/);
  rejects(
    { inputs: [{ ...good().inputs[0], shape: [1, -4] }] },
    'invalid_input',
    /inputs\[0\]\.shape\[1\] must be at least 0/,
  );
  const wrongName = good();
  wrongName.inputs[0]!.name = 'q';
  rejects(wrongName, 'invalid_input', /unknown input 'q'/);
  const missing = good();
  missing.inputs.pop();
  rejects(missing, 'invalid_input', /missing input 'ids'/);
  const dtype = good();
  dtype.inputs[0]!.datatype = 'INT32';
  rejects(dtype, 'invalid_input', /datatype "INT32", model expects FP32/);
  const rank = good();
  rank.inputs[0]!.shape = [4];
  rejects(rank, 'invalid_input', /rank 1, model expects rank 2/);
  const dim = good();
  dim.inputs[0]!.shape = [1, 4];
  dim.inputs[0]!.data = [[1, 2, 3, 4]];
  rejects(dim, 'invalid_input', /dimension 1 is 4, model expects 2/);
  const count = good();
  count.inputs[0]!.data = [1, 2, 3];
  rejects(count, 'invalid_input', /has 3 elements, shape \[2,2\] needs 4/);
  const tooMany = good();
  tooMany.inputs[0]!.data = [1, 2, 3, 4, 5];
  rejects(tooMany, 'invalid_input', /more than 4 elements/);
  const empty = good();
  empty.inputs[0]!.shape = [0, 2];
  empty.inputs[0]!.data = [];
  rejects(empty, 'invalid_input', /empty batch/);
  const type = good();
  type.inputs[0]!.data = [1, 'a', 3, 4];
  rejects(type, 'invalid_input', /element 1 must be a finite number/);
  const disagree = good();
  disagree.inputs[1]!.shape = [1, 3];
  disagree.inputs[1]!.data = [1, 2, 3];
  rejects(disagree, 'invalid_input', /disagree on the batch dimension/);
});

test('more items than a request may carry are rejected', () => {
  const body = {
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [5, 2], data: new Array(10).fill(0) },
      { name: 'ids', datatype: 'INT64', shape: [5, 1], data: [1, 2, 3, 4, 5] },
    ],
  };
  rejects(body, 'invalid_input', /5 items.*at most 4/);
});

test('integer ranges are enforced', () => {
  const m: ModelSpec = { ...model, inputs: [{ name: 'b', datatype: 'UINT8', shape: [1] }] };
  assert.throws(
    () => validateInferenceRequest(m, { inputs: [{ name: 'b', datatype: 'UINT8', shape: [1, 1], data: [256] }] }),
    /out of range/,
  );
  assert.throws(
    () => validateInferenceRequest(m, { inputs: [{ name: 'b', datatype: 'UINT8', shape: [1, 1], data: [1.5] }] }),
    /must be an integer/,
  );
  const v = validateInferenceRequest(m, { inputs: [{ name: 'b', datatype: 'UINT8', shape: [1, 1], data: [255] }] });
  assert.equal(v.tensors[0]!.data[0], 255);
});

test('binary tensor data: inputs read from the bytes in header order, outputs flagged binary', () => {
  const x = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  const ids = Buffer.from(new BigInt64Array([5n, 6n, 7n, 8n, 9n, 10n]).buffer);
  const body = {
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } },
      { name: 'ids', datatype: 'INT64', shape: [2, 3], parameters: { binary_data_size: 48 } },
    ],
    outputs: [{ name: 'y', parameters: { binary_data: true } }],
  };
  // One leading byte so that the tensors start unaligned, as they do after a JSON header.
  const data = Buffer.concat([Buffer.from([0]), x, ids]).subarray(1);
  const v = validateInferenceRequest(model, body, data);
  assert.deepEqual([...v.tensors[0]!.data], [1, 2, 3, 4]);
  assert.deepEqual([...v.tensors[1]!.data], [5n, 6n, 7n, 8n, 9n, 10n]);
  assert.deepEqual([...(v.binaryOutputs ?? [])], ['y']);
  assert.throws(
    () => validateInferenceRequest(model, body, Buffer.concat([x, ids, Buffer.from([1])])),
    /1 bytes of binary data that no input claims/,
  );
  assert.throws(() => validateInferenceRequest(model, body), /has no binary data/);
});

test('a handed-over binary body: tensors are aligned in place over the parsed header, not copied', async () => {
  const { parseBinaryBody } = await import('./binary.js');
  const x = Buffer.from(new Float32Array([1.5, -2, 3.25, 4]).buffer);
  const ids = Buffer.from(new BigInt64Array([5n, 6n, 7n, 8n, 9n, -10n]).buffer);
  const header = {
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } },
      { name: 'ids', datatype: 'INT64', shape: [2, 3], parameters: { binary_data_size: 48 } },
    ],
  };
  for (const pad of [0, 1, 2, 3, 5, 7]) {
    // A header of a length that leaves the tensors at every misalignment.
    const json = Buffer.from(JSON.stringify(header) + ' '.repeat(pad));
    const body = Buffer.alloc(json.length + x.length + ids.length + 3, 0xee).subarray(
      0,
      json.length + x.length + ids.length,
    );
    json.copy(body, 0);
    x.copy(body, json.length);
    ids.copy(body, json.length + x.length);
    const parsed = parseBinaryBody(body, String(json.length));
    const v = validateInferenceRequest(model, parsed.header, parsed.data);
    assert.deepEqual([...v.tensors[0]!.data], [1.5, -2, 3.25, 4], `pad ${pad}`);
    assert.deepEqual([...v.tensors[1]!.data], [5n, 6n, 7n, 8n, 9n, -10n], `pad ${pad}`);
    // The FP32 tensor never needs a copy. The INT64 one does only behind an FP32 tensor that
    // was 4- but not 8-aligned: it stays, and leaves no room to move the next one.
    const xStayed = (body.byteOffset + json.length) % 4 === 0;
    const idsCopied = xStayed && (body.byteOffset + json.length + 16) % 8 !== 0;
    assert.equal(v.tensors[0]!.data.buffer, body.buffer, `pad ${pad}: 'x' is a view of the body`);
    assert.equal(
      v.tensors[1]!.data.buffer === body.buffer,
      !idsCopied,
      `pad ${pad}: 'ids' is a view of the body unless it had no room`,
    );
    for (const t of v.tensors.filter((t) => t.data.buffer === body.buffer)) {
      assert.equal(t.data.byteOffset % t.data.BYTES_PER_ELEMENT, 0);
      assert.ok(
        t.data.byteOffset >= body.byteOffset &&
          t.data.byteOffset + t.data.byteLength <= body.byteOffset + body.byteLength,
        'within the body',
      );
    }
    // Nothing past the body was written.
    assert.deepEqual([...new Uint8Array(body.buffer, body.byteOffset + body.length, 3)], [0xee, 0xee, 0xee]);
  }
});

test('a handed-over binary body: bad values are still caught after the move; no room to move means a copy', async () => {
  const { parseBinaryBody } = await import('./binary.js');
  const oneInput: ModelSpec = { ...model, inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }] };
  const json = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] }) +
      ' ',
  );
  const withNaN = Buffer.concat([json, Buffer.from(new Float32Array([1, Number.NaN]).buffer)]);
  const parsed = parseBinaryBody(withNaN, String(json.length));
  assert.throws(
    () => validateInferenceRequest(oneInput, parsed.header, parsed.data),
    /element 1 must be a finite number/,
  );
  // Three bytes off alignment and no reusable bytes before them: copied, the body untouched.
  const raw = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(new Float32Array([7, 8]).buffer)]);
  const before = Buffer.from(raw);
  const v = validateInferenceRequest(oneInput, parsed.header, { bytes: raw.subarray(3), reusable: 0 });
  assert.deepEqual([...v.tensors[0]!.data], [7, 8]);
  assert.notEqual(v.tensors[0]!.data.buffer, raw.buffer);
  assert.deepEqual(raw, before);
  // A plain Uint8Array is never written to, aligned or not.
  const plain = Buffer.from(new Float32Array([7, 8]).buffer);
  assert.notEqual(validateInferenceRequest(oneInput, parsed.header, plain).tensors[0]!.data.buffer, plain.buffer);
});

test('a failed job reason carries the error code: written and read back; other text is not', async () => {
  const { failureReason, parseFailureReason } = await import('./jobs.js');
  const reason = failureReason({ code: 'timeout', message: 'request deadline passed while queued: a: b' });
  assert.deepEqual(parseFailureReason(reason), {
    code: 'timeout',
    message: 'request deadline passed while queued: a: b',
  });
  assert.equal(parseFailureReason('job stalled more than allowable limit'), undefined);
  assert.equal(parseFailureReason('nonsense_code: x'), undefined);
  assert.equal(parseFailureReason(undefined), undefined);
});

test('data nested deeper than its rank + 1 is a 400, iteratively, even 20,000 levels deep', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 20_000; i++) deep = [deep];
  const body = good();
  (body.inputs[0] as { data: unknown }).data = deep;
  rejects(body, 'invalid_input', /input 'x' nests arrays more than 3 deep/);
  const oneExtra = good();
  (oneExtra.inputs[0] as { data: unknown }).data = [
    [
      [1, 2],
      [3, 4],
    ],
  ];
  assert.equal(validateInferenceRequest(model, oneExtra).items, 2, 'rank + 1 levels are accepted');
});
