import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Outcome } from './types.js';
import { harness } from './testing/harness.js';
import { makeModel, OomError, tensor, values } from './testing/fixtures.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POISON = 666;

for (const seed of [1, 2, 3, 4, 5]) {
  test(`random traffic with OOMs and bad inputs: every request gets its own rows or its own failure (seed ${seed})`, async () => {
    const rand = prng(seed);
    const budget = 40;
    const h = harness({
      growAfter: 4,
      fail: (call) => {
        const padded = call.inputs[0]!.shape[1]!;
        if (call.items * padded > budget) return new OomError();
        if (Array.from(call.inputs[0]!.data as Float32Array).includes(POISON)) return new Error('poison');
        return undefined;
      },
    });
    const model = makeModel({
      maxBatchSize: 16,
      maxQueueDelayMs: 3,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], pad: [{ axis: 0, value: 0 }] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1], crop: [{ axis: 0, input: 'x', inputAxis: 0, scale: 1 }] }],
    });
    const sent: { data: number[]; poisoned: boolean; done: Promise<Outcome> }[] = [];
    let next = 1;
    for (let step = 0; step < 120; step++) {
      const burst = rand() < 0.3 ? Math.floor(rand() * 4) : 0;
      for (let k = 0; k < burst; k++) {
        const items = 1 + Math.floor(rand() * 6);
        const len = 1 + Math.floor(rand() * 5);
        const data = Array.from({ length: items * len }, () => next++ % 500);
        const poisoned = rand() < 0.05;
        if (poisoned) data[Math.floor(rand() * data.length)] = POISON;
        const req = {
          id: `s${sent.length}`,
          model,
          items,
          inputs: [tensor('x', 'FP32', [items, len], data)],
          enqueuedAt: h.clock.now(),
        };
        sent.push({ data, poisoned, done: h.scheduler.submit(req) });
      }
      await h.advance(1);
    }
    await h.advance(2000);
    assert.equal(h.scheduler.pending(), 0);
    assert.equal(h.runner.maxActive, 1);
    const outs = await Promise.all(sent.map((s) => s.done));
    outs.forEach((out, i) => {
      const s = sent[i]!;
      if (out.ok) {
        assert.equal(s.poisoned, false, `request ${i} carried poison but succeeded`);
        assert.deepEqual(
          values(out.outputs[0]),
          s.data.map((v) => v * 2),
          `request ${i} got someone else's rows`,
        );
      } else {
        assert.equal(s.poisoned, true, `request ${i} failed with ${out.error.code}: ${out.error.message}`);
      }
    });
    assert.ok(h.runner.sizes.every((n) => n <= 16));
    assert.ok(h.seen.ooms.length > 0, 'the traffic should have run out of memory at least once');
  });
}
