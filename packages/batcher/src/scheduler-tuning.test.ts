import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec, Tensor } from '@tessera/contract';
import { ManualClock } from './manual-clock.js';
import { Scheduler } from './scheduler.js';
import { doubled } from './testing/fake-runner.js';
import { classify, flush, isOom, makeModel, request } from './testing/fixtures.js';
import { cpuLike, gpuLike, type FakeDevice } from './testing/device-sim.js';
import type { BatchEvent, RunResult, Runner, SchedulerOptions } from './types.js';

/** A runner whose batches take `device.ms(n)` of the manual clock. */
class TimedRunner implements Runner {
  constructor(
    private readonly clock: ManualClock,
    private readonly device: FakeDevice,
  ) {}
  async run(model: ModelSpec, inputs: Tensor[]): Promise<RunResult> {
    const ms = this.device.ms(inputs[0]!.shape[0]!);
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, ms));
    return { outputs: doubled(model, inputs), computeMs: ms, provider: 'fake' };
  }
  async reset(): Promise<void> {}
}

function setup(device: FakeDevice, opts: Partial<SchedulerOptions> = {}) {
  const clock = new ManualClock(0);
  const batches: BatchEvent[] = [];
  const caps: { cap: number; reason: string | undefined }[] = [];
  const scheduler = new Scheduler({
    runner: new TimedRunner(clock, device),
    clock,
    isOutOfMemory: isOom,
    classifyError: classify,
    events: { onBatch: (e) => batches.push(e), onCapChange: (e) => caps.push({ cap: e.cap, reason: e.reason }) },
    ...opts,
  });
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await flush();
    }
  };
  return { clock, scheduler, batches, caps, advance };
}

/** `clients` closed-loop clients: each submits its next one-item request when the last returns. */
function closedLoop(s: Scheduler, model: ModelSpec, clients: number): () => void {
  let stop = false;
  const client = async (): Promise<void> => {
    while (!stop) await s.submit(request(model, 1, 0));
  };
  for (let i = 0; i < clients; i++) void client();
  return () => void (stop = true);
}

test('with tuning on, a device whose per-item cost rises with the batch gets small batches under load', async () => {
  const t = setup(cpuLike, { tuning: true });
  const model = makeModel({ maxBatchSize: 32, maxQueueDelayMs: 0 });
  const stop = closedLoop(t.scheduler, model, 64);
  await t.advance(20_000);
  stop();
  const late = t.batches.slice(-20).map((b) => b.size);
  assert.ok(late.filter((n) => n <= 4).length >= 16, `last batches: ${late.join(',')}`);
  assert.ok(
    t.caps.some((c) => c.reason === 'settle'),
    'the tuner settled on a smaller cap',
  );
  const state = t.scheduler.describeCap(model);
  assert.ok(
    Number(state.tunedCap) <= 4,
    `settled cap ${state.tunedCap} (now ${state.cap}${state.probing ? ', trying another' : ''})`,
  );
});

test('with tuning on, a device that gains from batching keeps full batches', async () => {
  const t = setup(gpuLike, { tuning: true });
  const model = makeModel({ maxBatchSize: 32, maxQueueDelayMs: 0 });
  const stop = closedLoop(t.scheduler, model, 64);
  await t.advance(10_000);
  stop();
  // Tries of 16 become rarer while they do not pay.
  const sizes = t.batches.slice(10).map((b) => b.size);
  assert.ok(sizes.filter((n) => n === 32).length / sizes.length > 0.9, `sizes: ${sizes.join(',')}`);
  assert.equal(t.scheduler.cap(model), 32);
});

test("a cap that fell to 1 comes back up once runs are short beside the worker's own work per batch", async () => {
  // First a device on which batches of more than one item are far slower per item: the tuner
  // settles at 1. Then the device gets fast (0.05 ms per item) and the worker's own work, 2 ms per
  // batch, is most of each cycle: every batch is full at a cap of 1 and its run is short beside
  // the cycle. Such batches once counted as light, so the cap was never tried higher again; per
  // cycle, 32 items are many times faster than 1.
  const clock = new ManualClock(0);
  let phase = 1;
  const device = { ms: (n: number) => (phase === 1 ? n * (1 + 0.5 * Math.log2(n)) : 0.05 * n) };
  const events = { onBatch: () => void (phase === 2 && clock.advance(2)) };
  const s = new Scheduler({
    runner: new TimedRunner(clock, device),
    clock,
    isOutOfMemory: isOom,
    classifyError: classify,
    tuning: true,
    events,
  });
  const model = makeModel({ maxBatchSize: 32, maxQueueDelayMs: 0 });
  const stop = closedLoop(s, model, 64);
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await flush();
    }
  };
  await advance(20_000);
  assert.equal(s.cap(model), 1, `settled at ${s.cap(model)} on the first device`);
  phase = 2;
  await advance(20_000);
  stop();
  assert.ok(s.cap(model) >= 16, `cap ${s.cap(model)} on the second device`);
});

test('without tuning the cap stays at max_batch_size whatever the device', async () => {
  const t = setup(cpuLike);
  const model = makeModel({ maxBatchSize: 32, maxQueueDelayMs: 0 });
  const stop = closedLoop(t.scheduler, model, 64);
  await t.advance(10_000);
  stop();
  assert.ok(t.batches.slice(2).every((b) => b.size === 32));
  assert.deepEqual(t.caps, []);
});

test('each batch reports the delay the batching rule held it open: 0 when it went at once', async () => {
  const t = setup({ ms: () => 5 });
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 10 });
  // A lone request after a quiet spell goes at once.
  void t.scheduler.submit(request(model, 1, 0));
  await t.advance(100);
  // Then one request every 6 ms: the device (5 ms a batch) is idle at each arrival, and the
  // next arrival is expected within the 10 ms window, so partial batches are held for it.
  for (let i = 0; i < 20; i++) {
    void t.scheduler.submit(request(model, 1, 0));
    await t.advance(6);
  }
  await t.advance(40);
  assert.equal(t.batches[0]!.delayMs, 0);
  const held = t.batches.filter((b) => b.delayMs > 0);
  assert.ok(held.length >= 1, `delays: ${t.batches.map((b) => b.delayMs).join(',')}`);
  assert.ok(
    held.every((b) => b.delayMs <= 10),
    'never longer than max_queue_delay_ms',
  );
});
