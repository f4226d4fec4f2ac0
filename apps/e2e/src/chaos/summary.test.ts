import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Outcome } from '../load.js';
import { summarize } from './summary.js';

const ok = (doneAt: number, earlier: string[] = []): Outcome => ({
  at: doneAt - 10,
  ms: 10,
  model: 'affine',
  status: 200,
  correct: true,
  earlier,
});

test('counts answers, wrong answers, losses and every try by status', () => {
  const outcomes: Outcome[] = [
    ok(100),
    ok(200, ['503 not_ready']),
    { ...ok(300), correct: false },
    {
      at: 400,
      ms: 5,
      model: 'affine',
      status: 503,
      code: 'not_ready',
      correct: false,
      earlier: ['0 connection', '502'],
    },
  ];
  const s = summarize('x', outcomes, { start: 1000, end: 2000, baselineMs: 1000 });
  assert.equal(s.sent, 4);
  assert.equal(s.answered, 2);
  assert.equal(s.wrong, 1);
  assert.equal(s.lost, 1, 'a request left at 503 is lost (the wrong answer counts as wrong)');
  assert.deepEqual(s.statuses, { '200': 3, '503 not_ready': 2, '0 connection': 1, '502': 1 });
  assert.equal(s.undocumented, 2, 'a lost connection and a 502 without a JSON code');
});

test('recovery: from the end of the fault to the first second at 80 % of the baseline rate', () => {
  // 10 answers per second before the fault (0-5 s), none during it (5-7 s), a slow second
  // after it (5 answers in 7-8 s), then 10 per second again from 8 s.
  const times = [
    ...Array.from({ length: 50 }, (_, i) => i * 100 + 50),
    ...Array.from({ length: 5 }, (_, i) => 7000 + i * 200 + 50),
    ...Array.from({ length: 30 }, (_, i) => 8000 + i * 100 + 50),
  ];
  const s = summarize(
    'x',
    times.map((t) => ok(t)),
    { start: 5000, end: 7000, baselineMs: 5000 },
  );
  assert.equal(s.baselinePerSecond, 10);
  assert.equal(s.faultMs, 2000);
  assert.ok(
    s.recoveryMs !== null && s.recoveryMs > 0 && s.recoveryMs <= 1000,
    `recovered within a second of 8 s (${s.recoveryMs})`,
  );
});

test('a load that never got back to its baseline has no recovery time', () => {
  const times = [...Array.from({ length: 20 }, (_, i) => i * 100), 5000, 6000, 7000];
  assert.equal(
    summarize(
      'x',
      times.map((t) => ok(t)),
      { start: 2000, end: 3000, baselineMs: 2000 },
    ).recoveryMs,
    null,
  );
});
