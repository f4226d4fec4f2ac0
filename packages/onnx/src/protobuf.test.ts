import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtoReader, ProtoError } from './protobuf-reader.js';
import { ProtoWriter } from './protobuf-writer.js';

test('varints round trip, including ten-byte negatives and values above 2^32', () => {
  const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, -1, -2, -(2 ** 40)];
  const w = new ProtoWriter();
  values.forEach((v, i) => w.varint(i + 1, v));
  const r = new ProtoReader(w.finish());
  for (const [i, v] of values.entries()) {
    const tag = r.tag();
    assert.deepEqual(tag, { field: i + 1, wire: 0 });
    assert.equal(r.varint(), v);
  }
  assert.equal(r.tag(), undefined);
});

test('varintBig is exact for the int64 extremes', () => {
  const w = new ProtoWriter().varint(1, -(2n ** 63n)).varint(2, 2n ** 63n - 1n);
  const r = new ProtoReader(w.finish());
  r.tag();
  assert.equal(r.varintBig(), -(2n ** 63n));
  r.tag();
  assert.equal(r.varintBig(), 2n ** 63n - 1n);
});

test('length-delimited fields come back as views of the input, not copies', () => {
  const payload = new Uint8Array(1000).fill(7);
  const bytes = new ProtoWriter().bytes(9, payload).string(8, 'name').finish();
  const r = new ProtoReader(bytes);
  r.tag();
  const view = r.bytes();
  assert.equal(view.buffer, bytes.buffer);
  assert.equal(view.byteLength, 1000);
  r.tag();
  assert.equal(r.string(), 'name');
});

test('repeated scalars are read both packed and unpacked', () => {
  const unpacked = new ProtoWriter().varint(1, 3).varint(1, 4).finish();
  const inner = new ProtoWriter();
  // A packed run is a bare sequence of varints inside one length-delimited field.
  const packedBody = new Uint8Array([3, 4]);
  const packed = inner.bytes(1, packedBody).finish();
  for (const bytes of [unpacked, packed]) {
    const r = new ProtoReader(bytes);
    const out: number[] = [];
    for (let t = r.tag(); t; t = r.tag()) r.repeated(t.wire, (x) => x.varint(), out);
    assert.deepEqual(out, [3, 4]);
  }
});

test('floats are little-endian fixed32', () => {
  const r = new ProtoReader(new ProtoWriter().float(2, 1.5).finish());
  assert.deepEqual(r.tag(), { field: 2, wire: 5 });
  assert.equal(r.float(), 1.5);
});

test('truncated input is a ProtoError, not an out-of-range read', () => {
  const bytes = new ProtoWriter().bytes(1, new Uint8Array(10)).finish().subarray(0, 5);
  const r = new ProtoReader(bytes);
  r.tag();
  assert.throws(() => r.bytes(), ProtoError);
  assert.throws(() => new ProtoReader(new Uint8Array([0x80])).varint(), ProtoError);
});
