/** The systems the benchmark compares on the same inputs. */
export type ContenderName = 'ceiling' | 'seed' | 'full' | 'floor' | FrontDoor;

/**
 * The full stack's other front doors, measured on the same running stack as `full` (REST with
 * binary tensors): gRPC through nginx's gRPC port with the SDK's client, and REST with JSON.
 */
export type FrontDoor = 'grpc' | 'json';
export const FRONT_DOORS: readonly FrontDoor[] = ['grpc', 'json'];

export const CONTENDERS: readonly ContenderName[] = ['ceiling', 'seed', 'full', 'floor', ...FRONT_DOORS];

export const CONTENDER_LABELS: Record<ContenderName, string> = {
  ceiling: 'ceiling (in-process session.run)',
  seed: 'seed (one Express process, no queue)',
  full: 'full stack (nginx, 3 APIs, Redis, worker)',
  floor: 'floor (the same processes and hops, no features)',
  grpc: 'full stack over gRPC (ModelInfer through nginx, SDK client)',
  json: 'full stack over REST with JSON tensors',
};

/** The contenders that run as a service measured by a load generator. */
export type ServedContender = Exclude<ContenderName, 'ceiling'>;

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
  /** Pin the services to these CPUs (taskset); the load generator runs on the others, if any. */
  cpus?: number[];
  /** report.json of an earlier run: the scaling model's CPU costs per process (this run's own without it). */
  calibration?: string;
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
  contender: ServedContender;
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
  /** With --cpus or --calibration: each full-stack step predicted by the scaling model. */
  scaling?: ScalingCheck[];
}

/** The scaling model's inputs and answers (report/scaling.ts). */
export interface CostsMs {
  /** CPU milliseconds per request, all API replicas together. */
  api: number;
  redis: number;
  nginx: number;
  /** The worker's CPU per request outside session.run. */
  workerPath: number;
  /** session.run per request at the batch size the step ran (CPU execution provider). */
  compute: number;
  /** The load generator's, counted against the cores only when it shares them. */
  loadgen: number;
}

export interface Layout {
  cores: number;
  replicas: number;
  workers: number;
  nginxWorkers: number;
  itemsPerRequest: number;
  /** Items per second one GPU runs at the served batch size; absent: session.run runs on the cores. */
  gpuItemsPerS?: number;
  /** Whether the load generator runs on the same cores as the services. */
  loadgenShares: boolean;
}

export type Bound = 'cores' | 'api' | 'redis' | 'nginx' | 'worker' | 'device';

export interface Prediction {
  reqPerS: number;
  /** The resource that sets it. */
  bound: Bound;
  bounds: Record<Bound, number>;
}

/** One full-stack step measured on a restricted layout, next to what the scaling model predicted for it. */
export interface ScalingCheck {
  model: string;
  concurrency: number;
  layout: Layout;
  /** Where the CPU costs came from: 'this run' or the calibration report's path. */
  costsFrom: string;
  costs: CostsMs;
  predicted: Prediction;
  measuredReqPerS: number;
  /** (predicted − measured) / measured, in percent. */
  errorPct: number;
  /**
   * The cores the services (and a load generator sharing them) kept busy during the step: on a
   * machine shared with other work, fewer than the layout's when the model's error comes from
   * the CPU they were not given rather than from the model.
   */
  coresUsed: number;
  /** The prediction with the cores the services got instead of the layout's, and its error. */
  atCoresUsed: { reqPerS: number; bound: string; errorPct: number };
}
