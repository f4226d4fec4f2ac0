import type { PaddingPolicy } from '../padding.js';
import { ManualClock } from '../manual-clock.js';
import { Scheduler } from '../scheduler.js';
import type { ModelSpec } from '@tessera/contract';
import type { InstancePlan } from '../types.js';
import type { SchedulerEvents } from '../types.js';
import { FakeRunner, type FakeRunCall } from './fake-runner.js';
import { classify, flush, isOom } from './fixtures.js';

export interface Recorded {
  batches: { model: string; size: number; queueMs: number[] }[];
  ooms: { from: number; to: number }[];
  caps: number[];
  failures: string[];
}

/** A scheduler on a manual clock with a doubling fake device that takes 5 ms per batch. */
export interface HarnessOptions {
  fail?: (call: FakeRunCall) => unknown;
  growAfter?: number;
  computeMs?: number;
  computeMsFor?: (model: ModelSpec) => number;
  instances?: (model: ModelSpec) => InstancePlan;
  threadBudget?: number;
  padding?: Partial<PaddingPolicy>;
}

export function harness(opts: HarnessOptions = {}) {
  const clock = new ManualClock(0);
  const runner = new FakeRunner({
    clock,
    computeMs: opts.computeMs ?? 5,
    ...(opts.computeMsFor ? { computeMsFor: opts.computeMsFor } : {}),
    ...(opts.fail ? { fail: opts.fail } : {}),
  });
  const seen: Recorded = { batches: [], ooms: [], caps: [], failures: [] };
  const events: SchedulerEvents = {
    onBatch: (e) => seen.batches.push({ model: e.model.name, size: e.size, queueMs: e.queueMs }),
    onOom: (e) => seen.ooms.push({ from: e.from, to: e.to }),
    onCapChange: (e) => seen.caps.push(e.cap),
    onFailure: (e) => seen.failures.push(e.requestId),
  };
  const scheduler = new Scheduler({
    runner,
    clock,
    isOutOfMemory: isOom,
    classifyError: classify,
    events,
    ...(opts.growAfter !== undefined ? { growAfter: opts.growAfter } : {}),
    ...(opts.padding ? { padding: opts.padding } : {}),
    ...(opts.instances ? { instances: opts.instances } : {}),
    ...(opts.threadBudget !== undefined ? { threadBudget: opts.threadBudget } : {}),
  });
  /** Moves the clock one millisecond at a time, letting the scheduler react in between. */
  const advance = async (ms: number): Promise<void> => {
    await flush();
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await flush();
    }
  };
  const modelsRun = (): string[] => runner.calls.map((c: FakeRunCall) => c.model.name);
  return { clock, runner, scheduler, seen, advance, flush, modelsRun };
}

export type Harness = ReturnType<typeof harness>;
