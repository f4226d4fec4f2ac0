import type { ModelSpec } from '@tessera/contract';
import type { BatchSizeController, CapChangeReason } from './batch-size-controller.js';
import type { RecoveryCap } from './recovery.js';
import type { BatchLoad } from './throughput-tuner.js';
import type { SchedulerEvents } from './types.js';

/** Runs a metrics hook; hooks must not break batching. */
type Emit = (fn: () => void) => void;

function reportChange(
  ctl: BatchSizeController,
  model: ModelSpec,
  from: number,
  reason: CapChangeReason | undefined,
  emit: Emit,
  events: SchedulerEvents,
): void {
  if (reason === undefined || (ctl.value === from && reason !== 'settle')) return;
  emit(() => events.onCapChange?.({ model, cap: ctl.value, from, reason }));
}

/** A model's cap controller as failure recovery drives it, reporting every change. */
export function capHooks(ctl: BatchSizeController, model: ModelSpec, emit: Emit, events: SchedulerEvents): RecoveryCap {
  return {
    get value() {
      return ctl.value;
    },
    onSuccess: (items) => {
      const from = ctl.value;
      reportChange(ctl, model, from, ctl.onSuccess(items), emit, events);
    },
    onOutOfMemory: (items) => {
      const from = ctl.value;
      const reason = ctl.onOutOfMemory(items);
      emit(() => events.onOom?.({ model, from, to: ctl.value, items }));
      reportChange(ctl, model, from, reason, emit, events);
    },
  };
}

/** Feeds a successful batch's cost to the model's cap controller, reporting a change. */
export function tuneCap(
  ctl: BatchSizeController,
  model: ModelSpec,
  batch: { size: number; costMs: number; runMs: number; load: BatchLoad },
  emit: Emit,
  events: SchedulerEvents,
): void {
  const from = ctl.value;
  reportChange(ctl, model, from, ctl.observe(batch.size, batch.costMs, batch.load, batch.runMs), emit, events);
}
