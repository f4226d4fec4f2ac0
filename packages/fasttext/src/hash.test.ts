import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastTextHash, fnvStep } from './hash.js';
import { referenceModel } from './reference-model.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const NWORDS = 7235; // lid.176's word count: getSubwordId answers nwords + hash % bucket
const BUCKET = 2_000_000;

test('ASCII hashes are plain 32-bit FNV-1a', () => {
  assert.equal(fastTextHash(bytes('')), 0x811c9dc5);
  assert.equal(fastTextHash(bytes('a')), 0xe40c292c);
  assert.equal(fastTextHash(bytes('foobar')), 0xbf9cf968);
});

test('bytes >= 0x80 are sign-extended before the xor, as released models were trained', () => {
  const plain = Math.imul(0x811c9dc5 ^ 0xc3, 16777619) >>> 0;
  const signed = Math.imul((0x811c9dc5 ^ 0xffffffc3) >>> 0, 16777619) >>> 0;
  assert.notEqual(plain, signed);
  assert.equal(fastTextHash(Uint8Array.of(0xc3)), signed);
  assert.equal(fnvStep(0x811c9dc5, 0xc3), signed);
});

test('a range hashes like the bytes it spans', () => {
  const b = bytes('<hello>');
  assert.equal(fastTextHash(b, 1, 6), fastTextHash(bytes('hello')));
});

test('bucket ids agree with fastText for ASCII, accented, Cyrillic, CJK and emoji n-grams', async () => {
  const ref = await referenceModel();
  for (const s of ['<he', 'llo>', 'é', '<naï', 'при', 'вет>', '日本', '語>', '😀', '<ß>', 'a b', '\u00a0x']) {
    assert.equal(NWORDS + (fastTextHash(bytes(s)) % BUCKET), ref.subwordId(s), JSON.stringify(s));
  }
});
