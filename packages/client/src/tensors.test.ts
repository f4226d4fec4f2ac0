import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNpy } from './cli/npy.js';
import { RateLimitedError, NotFoundError } from './errors.js';
import { decodeInferResponse, encodeInferRequest } from './rest-encoding.js';
import { withRetries } from './retry.js';
import { fromHalfBits, fromJson, toHalfBits, toJson, toTensor } from './tensors.js';

test('a typed array names its datatype; a mismatch or a wrong element count is refused', () => {
  assert.equal(toTensor({ name: 'x', shape: [2], data: new Float32Array(2) }).datatype, 'FP32');
  assert.equal(toTensor({ name: 'x', shape: [1], data: new BigInt64Array(1) }).datatype, 'INT64');
  assert.equal(toTensor({ name: 'b', datatype: 'BOOL', shape: [1], data: new Uint8Array(1) }).datatype, 'BOOL');
  assert.throws(
    () => toTensor({ name: 'x', datatype: 'FP32', shape: [1], data: new Float64Array(1) }),
    /FP32 data must be a Float32Array/,
  );
  assert.throws(() => toTensor({ name: 'x', shape: [3], data: new Float32Array(2) }), /needs 3 elements/);
});

test('JSON values: nested input, 64-bit integers beyond 2^53 as strings, FP16 through half bits', () => {
  assert.deepEqual(
    [
      ...fromJson('FP32', [
        [1, 2],
        [3, 4],
      ]),
    ],
    [1, 2, 3, 4],
  );
  const big = fromJson('INT64', ['9007199254740993', 5]);
  assert.deepEqual(toJson({ name: 'i', datatype: 'INT64', shape: [2], data: big }), ['9007199254740993', 5]);
  for (const v of [0, 1, -2.5, 65504, 2 ** -14, 2 ** -24]) assert.equal(fromHalfBits(toHalfBits(v)), v);
});

test('a binary request is a JSON header and the raw bytes; a binary response decodes to typed arrays', () => {
  const x = { name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: new Float32Array([1.5, -2]) };
  const { body, headerLength } = encodeInferRequest([x], { priority: 2 }, true);
  const header = JSON.parse(new TextDecoder().decode((body as Uint8Array).subarray(0, headerLength)));
  assert.deepEqual(header.inputs[0].parameters, { binary_data_size: 8 });
  assert.deepEqual(header.parameters, { priority: 2, binary_data_output: true });
  assert.deepEqual([...new Float32Array((body as Uint8Array).slice(headerLength!).buffer)], [1.5, -2]);

  // One byte of header padding puts the tensor at an odd offset: the decoder copies it out.
  const head = new TextEncoder().encode(
    JSON.stringify({
      model_name: 'm',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
        { name: 's', datatype: 'INT64', shape: [1], data: [7] },
      ],
    }) + ' ',
  );
  const bytes = new Uint8Array(head.byteLength + 8);
  bytes.set(head);
  bytes.set(new Uint8Array(new Float32Array([3, 4]).buffer), head.byteLength);
  const result = decodeInferResponse(bytes, String(head.byteLength));
  assert.deepEqual([...result.output('y').data], [3, 4]);
  assert.deepEqual([...result.output('s').data], [7n]);
  assert.throws(() => result.output('z'), /no output 'z'/);
});

test('.npy files as numpy.save writes them', () => {
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const padded = header.padEnd(118, ' ') + '\n';
  const file = new Uint8Array(10 + padded.length + 16);
  file.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, padded.length, 0]);
  file.set(new TextEncoder().encode(padded), 10);
  file.set(new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer), 10 + padded.length);
  const npy = readNpy(file);
  assert.equal(npy.datatype, 'FP32');
  assert.deepEqual(npy.shape, [2, 2]);
  assert.deepEqual([...npy.data], [1, 2, 3, 4]);
});

test('retries 429 after Retry-After, never a 404, and stops when the wait passes maxDelayMs', async () => {
  let calls = 0;
  const limited = () => new RateLimitedError('slow down', { code: 'rate_limited', status: 429, retryAfterS: 0 });
  assert.equal(await withRetries(async () => (++calls < 3 ? Promise.reject(limited()) : 'ok'), { retries: 3 }), 'ok');
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    withRetries(async () => {
      calls++;
      throw new NotFoundError('no', { code: 'model_not_found', status: 404 });
    }, {}),
    NotFoundError,
  );
  assert.equal(calls, 1);
  await assert.rejects(
    withRetries(
      async () => {
        throw new RateLimitedError('later', { code: 'overloaded', status: 429, retryAfterS: 60 });
      },
      { maxDelayMs: 1000 },
    ),
    RateLimitedError,
  );
});
