import type { Datatype } from './datatypes.js';

/**
 * How a non-batch dimension that varies between requests is made uniform inside a batch:
 * every item is padded at the end of `axis` up to the largest size in the batch with `value`.
 * Axes count from 0 = the first non-batch dimension (as in Triton's `dims`).
 */
export interface PadRule {
  axis: number;
  value: number;
}

/**
 * Outputs whose dimension follows a padded input dimension are cropped back per item:
 * output size = max(1, ceil((input size + offset) * scale)) along `axis`. The offset expresses
 * the rounding of strided layers: PP-OCR recognition emits floor((W + 3) / 8) time steps,
 * which is ceil((W - 4) / 8), so its rule is scale 1/8, offset -4.
 */
export interface CropRule {
  axis: number;
  input: string;
  inputAxis: number;
  scale: number;
  offset?: number;
}

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** Dimensions without the batch dimension; -1 marks a variable dimension. */
  shape: number[];
  pad?: PadRule[];
  crop?: CropRule[];
}

export type ExecutionProvider = 'cuda' | 'cpu';

/** The response cache of one model (config.json `cache`). */
export interface CachePolicy {
  enabled: boolean;
  /** How long a result stays cached, in seconds. */
  ttlS: number;
  /** Results larger than this (serialised) are not cached. */
  maxEntryBytes: number;
}

/**
 * Where a model's instances run (Triton's `instance_group` kinds): KIND_GPU on the worker's GPU
 * (CPU fallback as `execution_providers` allow), KIND_CPU always on the CPU, KIND_AUTO as
 * `execution_providers` say.
 */
export type InstanceKind = 'KIND_AUTO' | 'KIND_GPU' | 'KIND_CPU';

/** `count` sessions of the model, each on an inference thread of its own. */
export interface InstanceGroup {
  count: number;
  kind: InstanceKind;
  /** GPU indices a KIND_GPU group is placed on; absent: whichever GPU the worker drives. */
  gpus?: number[];
}
/** Which of a model's version directories are served (Triton's `version_policy`). */
export type VersionPolicy =
  { latest: { num_versions: number } } | { all: Record<string, never> } | { specific: { versions: number[] } };

/** One servable model version, as both tiers see it. */
export interface ModelSpec {
  name: string;
  version: string;
  platform: 'onnxruntime_onnx';
  /** Path of the .onnx file (the worker opens it; the API never does). */
  file: string;
  /** Largest number of items one batch may hold; 0 means the model has no batch dimension. */
  maxBatchSize: number;
  /** How long the worker may hold a non-full batch open for more items, in milliseconds. */
  maxQueueDelayMs: number;
  /**
   * p99 latency objective in milliseconds: the worker's batch-size tuner keeps batches small
   * enough to meet it. Absent: batches are sized for the most throughput.
   */
  latencyObjectiveMs?: number;
  /** Largest number of items one request may carry. */
  maxItemsPerRequest: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  executionProviders: ExecutionProvider[];
  /** Free-form labels (task, licence, source) shown in metadata. */
  labels: Record<string, string>;
  /** Response cache; off when absent. */
  cache?: CachePolicy;
  /** Most items admitted and not yet answered across all replicas; past it requests get 429. */
  maxQueueItems?: number;
  /** Default request deadline in milliseconds; the service-wide default when absent. */
  timeoutMs?: number;
  /** The model's instances on each worker that serves it; absent: one, of KIND_AUTO. */
  instanceGroups?: InstanceGroup[];
  /** SHA-256 of the model file, so cached results never outlive a replaced file. */
  digest?: string;
  /** The model's version policy (every version when absent). */
  versionPolicy?: VersionPolicy;
}

/** Batch-dimension prefixed shape as reported in OIP metadata. */
export function metadataShape(model: ModelSpec, spec: TensorSpec): number[] {
  return model.maxBatchSize > 0 ? [-1, ...spec.shape] : [...spec.shape];
}
