import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCookie } from '../../auth/sessions.js';
import { loggedUrl } from './access-log.js';
import { nestsDeeperThan } from './json-depth.js';

test('loggedUrl keeps the path and never a query value, in any spelling', () => {
  const key = `tsk_0123456789ab_${'A'.repeat(43)}`;
  assert.equal(loggedUrl('/v2/models/affine'), '/v2/models/affine');
  for (const q of [`token=${key}`, `%74oken=${key}`, key, 'a=1&b=2'])
    assert.equal(loggedUrl(`/admin/queues?${q}`), '/admin/queues?***');
  for (const p of [`/v2/models/${key}`, `/x/%74sk_0123456789ab_${'B'.repeat(43)}`])
    assert.ok(!loggedUrl(p).includes('0123456789ab'), p);
  assert.equal(loggedUrl('/%E0%A4%A'), '/%E0%A4%A', 'an undecodable path is logged as sent');
});

test('nestsDeeperThan walks 200,000 levels without recursion', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.equal(nestsDeeperThan(deep, 64), true);
  assert.equal(nestsDeeperThan({ a: [[1, 2], { b: [3] }] }, 4), false);
  assert.equal(nestsDeeperThan({ a: [[1, 2], { b: [3] }] }, 3), true);
  assert.equal(nestsDeeperThan('text', 0), false);
});

test('readCookie: a value that is not valid percent-encoding counts as absent', () => {
  assert.equal(readCookie('a=1; tessera_session=abc%20d', 'tessera_session'), 'abc d');
  assert.equal(readCookie('tessera_session=%E0%A4%A', 'tessera_session'), undefined);
  assert.equal(readCookie('other=1', 'tessera_session'), undefined);
  assert.equal(readCookie(undefined, 'tessera_session'), undefined);
});
