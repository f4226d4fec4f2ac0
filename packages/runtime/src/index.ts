export { createOrtRunner } from './ort-runner.js';
export { classifyRunError, isOutOfMemoryError } from './errors.js';
export { providerPlan } from './providers.js';
export type {
  DeviceSetting,
  IoInfo,
  LoadResult,
  Logger,
  OrtRunner,
  OrtRunnerOptions,
  Provider,
  Runner,
  RunResult,
} from './types.js';
export { InstancePool, instanceDevices, type LoadedInstances } from './instance-pool.js';
