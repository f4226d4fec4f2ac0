/** The systems the benchmark compares on the same inputs. */
export type ContenderName = 'ceiling' | 'seed' | 'full' | 'floor';

export const CONTENDERS: readonly ContenderName[] = ['ceiling', 'seed', 'full', 'floor'];

export const CONTENDER_LABELS: Record<ContenderName, string> = {
  ceiling: 'ceiling (in-process session.run)',
  seed: 'seed (one Express process, no queue)',
  full: 'full stack (nginx, 3 APIs, Redis, worker)',
  floor: 'floor (the same processes and hops, no features)',
};

export interface BenchOptions {
  models: string[];
  /** Versions to measure each model at, as 'name@version' entries (empty: each model's default version). */
  versions: string[];
  concurrency: number[];
  contenders: ContenderName[];
  /** Measured seconds per step. */
  durationS: number;
  /** Unmeasured seconds of load before each step (lets caches, JIT and the batch controller settle). */
  warmupS: number;
  /** Seconds per batch size in the ceiling sweep. */
  ceilingSecondsPerSize: number;
  ceilingBatchSizes: number[];
  /** ONNX Runtime intra-op threads for every contender (the worker's INTRA_OP_THREADS). */
  intraOpThreads: number;
  /** API replicas of the full stack (3: the targets are set for three). */
  replicas: number;
  modelRepository: string;
  outDir: string;
  /** Run only the mixed-load step (lid176 alone and during an ocr-rec flood) for these layouts ([]: all). */
  mixed?: string[];
  /** Copy the services' logs to the console. */
  verbose: boolean;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

/** What one load-generator run measured. */
export interface LoadResult {
  connections: number;
  durationS: number;
  /** Responses of any status. */
  completed: number;
  ok: number;
  non2xx: number;
  /** Socket errors and timeouts (autocannon counts timeouts as errors too). */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Milliseconds, 2xx responses only, from every response time (not autocannon's 1 ms buckets). */
  latencyMs: LatencySummary;
  /** CPU the load generator itself used, for context (it is not charged to any contender). */
  loadgenCpuS: number;
}

export interface ProcessUsage {
  name: string;
  pids: number[];
  cpuS: number;
  cpuSPer1kRequests: number | null;
  /** Peak resident set during the step, sampled. */
  peakRssMb: number;
  /** The kernel's own high-water mark since the process started (VmHWM), for single processes. */
  hwmRssMb: number | null;
}

export interface BatchDistribution {
  /** Batches per upper bound of the worker's `tessera_worker_batch_size` histogram (le → count). */
  buckets: Record<string, number>;
  batches: number;
  items: number;
  meanSize: number | null;
  /** The worker's batch cap and delay gauges at the end of the step. */
  capAtEnd: number | null;
  delaySecondsAtEnd: number | null;
}

export interface StepResult {
  contender: 'seed' | 'full' | 'floor';
  model: string;
  /**
   * unique: every request's input differs, so the response cache misses (the measured sweep);
   * repeated: every request is the same, so after the first the cache answers (reported apart).
   */
  inputs: 'unique' | 'repeated';
  concurrency: number;
  itemsPerRequest: number;
  reqPerS: number;
  itemsPerS: number;
  load: LoadResult;
  processes: ProcessUsage[];
  batches: BatchDistribution | null;
}

export interface CeilingPoint {
  batchSize: number;
  runs: number;
  itemsPerS: number;
  meanMs: number;
  p50Ms: number;
}

export interface CeilingResult {
  model: string;
  intraOpThreads: number;
  points: CeilingPoint[];
  best: CeilingPoint;
  /** Median session.run time at batch 1. */
  batch1P50Ms: number;
  cpuS: number;
  peakRssMb: number;
}

export interface TargetResult {
  name: string;
  pass: boolean | null;
  detail: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  host: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  options: Omit<BenchOptions, 'outDir'>;
  notes: string[];
  ceilings: CeilingResult[];
  steps: StepResult[];
  targets: TargetResult[];
}
