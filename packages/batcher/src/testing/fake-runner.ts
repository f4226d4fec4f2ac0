import { fromHalfBits, toHalfBits, type ModelSpec, type Tensor, type TensorData } from '@tessera/contract';
import type { ManualClock } from '../manual-clock.js';
import type { RunResult, Runner } from '../types.js';

export interface FakeRunCall {
  model: ModelSpec;
  inputs: Tensor[];
  items: number;
  instance: number;
}

export interface FakeRunnerOptions {
  /** With a clock, a run takes `computeMs` of that clock's time to finish. */
  clock?: ManualClock;
  computeMs?: number;
  /** Per-model run time, where models differ (overrides `computeMs`). */
  computeMsFor?: (model: ModelSpec) => number;
  /** Returns an error to throw for this batch, or undefined to run it. */
  fail?: (call: FakeRunCall) => unknown;
}

/** Output i = input i (or the first input) times two, named after model output i. */
export function doubled(model: ModelSpec, inputs: readonly Tensor[]): Tensor[] {
  return model.outputs.map((spec, i) => {
    const src = inputs[i] ?? inputs[0]!;
    return { name: spec.name, datatype: src.datatype, shape: [...src.shape], data: double(src) };
  });
}

function double(t: Tensor): TensorData {
  const out = t.data.slice();
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if (typeof v === 'bigint') (out as BigInt64Array)[i] = v * 2n;
    else if (t.datatype === 'FP16') (out as Uint16Array)[i] = toHalfBits(fromHalfBits(v) * 2);
    else (out as Float32Array)[i] = v * 2;
  }
  return out;
}

/** A device that doubles its inputs, records every call and can be told to fail. */
export class FakeRunner implements Runner {
  readonly calls: FakeRunCall[] = [];
  readonly resets: ModelSpec[] = [];
  readonly resetInstances: number[] = [];
  active = 0;
  maxActive = 0;

  constructor(private readonly opts: FakeRunnerOptions = {}) {}

  /** Items per call, in call order. */
  get sizes(): number[] {
    return this.calls.map((c) => c.items);
  }

  async run(model: ModelSpec, inputs: Tensor[], instance = 0): Promise<RunResult> {
    const call = { model, inputs, items: model.maxBatchSize > 0 ? inputs[0]!.shape[0]! : 1, instance };
    this.calls.push(call);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const { clock } = this.opts;
      const computeMs = this.opts.computeMsFor?.(model) ?? this.opts.computeMs ?? 5;
      if (clock) await new Promise<void>((resolve) => clock.setTimeout(resolve, computeMs));
      const err = this.opts.fail?.(call);
      if (err !== undefined) throw err;
      return { outputs: doubled(model, inputs), computeMs, provider: 'fake' };
    } finally {
      this.active--;
    }
  }

  async reset(model: ModelSpec, instance = 0): Promise<void> {
    this.resets.push(model);
    this.resetInstances.push(instance);
  }
}
