export { systemClock, type Clock } from './clock.js';
export { ManualClock } from './manual-clock.js';
export type {
  BatchRequest,
  RunResult,
  Runner,
  Outcome,
  SchedulerEvents,
  SchedulerOptions,
  BatchEvent,
  InstancePlan,
} from './types.js';
export { Scheduler } from './scheduler.js';
export {
  BatchSizeController,
  type BatchSizeControllerOptions,
  type CapChangeReason,
  type TuningOptions,
} from './batch-size-controller.js';
export { MemoryLimit } from './memory-limit.js';
export { ThroughputTuner, type BatchLoad, type TunerOptions, type TunerMove } from './throughput-tuner.js';
export { BatchCostModel } from './batch-cost-model.js';
export { ArrivalRate } from './arrival-rate.js';
export { planBatch, type Plannable, type Take } from './plan.js';
export { runWithRecovery, type RecoveryOptions, type RecoveryCap, type PartOutcome } from './recovery.js';
export { stackInputs, compatKey, type StackPart } from './stack.js';
export { splitOutputs, assembleOutputs, type SplitPart } from './split.js';
export { DEFAULT_PADDING, paddingAllowed, type PaddingPolicy, type RowShape } from './padding.js';
export { Lanes, SINGLE_LANE } from './lanes.js';
export {
  crossModelOrder,
  DeviceShare,
  effectiveDeadline,
  urgencyOf,
  type Contender,
  type Urgency,
} from './cross-model.js';
