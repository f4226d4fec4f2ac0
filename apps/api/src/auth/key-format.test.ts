import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, hashKey, keyId, matchesHash } from './key-format.js';

test('a key names its id, and only its SHA-256 needs storing', () => {
  const { id, key, hash } = generateKey();
  assert.match(key, /^tsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  assert.equal(keyId(key), id);
  assert.equal(hash, hashKey(key));
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.ok(!hash.includes(key.slice(17)), 'the hash does not contain the secret');
  assert.notEqual(generateKey().key, key);
});

test('only the exact key matches its hash', () => {
  const { key, hash } = generateKey();
  assert.equal(matchesHash(key, hash), true);
  const other = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
  assert.equal(matchesHash(other, hash), false);
  assert.equal(matchesHash(key, 'abcd'), false, 'a corrupt stored hash never matches');
});

test('strings that cannot be keys are rejected before any lookup', () => {
  for (const s of ['', 'tsk_', 'Bearer x', 'tsk_0123456789ab_short', `tsk_0123456789AB_${'a'.repeat(43)}`])
    assert.equal(keyId(s), undefined, s);
});
