import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../admission.js';
import { inAMinute, useTestRedis } from '../testing/redis.js';

/** release-4.lua, through Admission.release. */
const redis = useTestRedis();

test('release gives the items back to the model and to the owner, once however often it is called', async () => {
  const a = new Admission(redis.conn, 'rel1');
  const share = { owner: 'key:a', maxItems: 4 };
  await a.admitMany(
    'm',
    [
      { requestId: 'j1', items: 3, deadline: inAMinute(), share },
      { requestId: 'j2', items: 1, deadline: inAMinute(), share },
    ],
    8,
  );
  await a.release('m', 'j1', 3);
  await a.release('m', 'j1', 3);
  assert.equal(await a.inFlight('m'), 1);
  assert.equal(await a.heldBy('m', 'key:a'), 1);
  await a.release('m', 'never-admitted', 5);
  assert.equal(await a.inFlight('m'), 1, 'a request never admitted changes nothing');
  await a.release('m', 'j2', 1);
  assert.equal(await a.heldBy('m', 'key:a'), 0);
  assert.equal(await redis.conn.hlen('rel1:admission:m:usage'), 0, 'an owner with nothing left is forgotten');
});
