import { z } from 'zod';
import { hostname } from 'node:os';

/**
 * Every knob of both services, validated in one place. Values come from the environment;
 * nothing else in the project reads process.env for configuration. Units are in the names.
 */

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** "8mb", "512kb", "1048576" → bytes. */
const bytes = z.string().transform((v, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `expected a size like 8mb, 512kb or 1048576, got '${v}'` });
    return z.NEVER;
  }
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
});

/** on/off switches: on, off, true, false, 1, 0, yes, no. */
const flag = z
  .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'], { error: (issue) => `expected on or off, got ${JSON.stringify(issue.input)}` })
  .transform((v) => ['on', 'true', '1', 'yes'].includes(v));

const common = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  MODEL_REPOSITORY: z.string().min(1).default('.run/models'),
  LOG_LEVEL: logLevel.default('info'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('tessera'),
  HEARTBEAT_INTERVAL_MS: int(100, 60_000).default(1000),
  /** OpenTelemetry's standard variable: tracing is on, to this OTLP/HTTP collector, when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
};

export const apiEnvSchema = z.object({
  ...common,
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  REPLICA_ID: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default(`${hostname()}-${process.pid}`),
  DEFAULT_MODEL: z.string().default('lid176'),
  MAX_TEXTS: int(1, 4096).default(64),
  MAX_TEXT_LENGTH: int(1, 1_000_000).default(10_000),
  MAX_TEXT_TOKENS: int(1, 1_000_000).default(50_000),
  MAX_IMAGES: int(1, 256).default(8),
  MAX_IMAGE_BYTES: bytes.default(4 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(1, 100_000_000).default(2048 * 2048),
  BODY_LIMIT: bytes.default(8 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  TRUST_PROXY: int(0, 10).default(1),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  /** Bearer API keys on /v2, /predict and /admin; `off` only for local experiments. */
  AUTH: flag.default(true),
  /** How long a replica trusts a key lookup; bounds how late a revocation takes effect. */
  AUTH_CACHE_MS: int(0, 1000).default(1000),
  /** Failed authentications per client address per window before 429 (0: no limit). */
  AUTH_FAILURE_LIMIT: int(0).default(30),
  /** Requests per key per window, shared by all replicas, unless the key sets its own (0: no limit). */
  RATE_LIMIT: int(0).default(6000),
  RATE_LIMIT_WINDOW_MS: int(1000, 86_400_000).default(60_000),
  /** Master switch of the response cache; each model's config.json decides below it. */
  RESPONSE_CACHE: flag.default(true),
  /**
   * While this replica still waits for answers of a model, a new request of it waits up to this
   * long for others to share its job (0: never; an idle replica never waits).
   */
  COALESCE_WINDOW_MS: int(0, 1000).default(2),
  /** How long an idempotency key keeps its request and result. */
  IDEMPOTENCY_TTL_S: int(1, 86_400).default(300),
  /** Priorities run from 1 (highest) to PRIORITY_LEVELS; absent or 0 means DEFAULT_PRIORITY. */
  PRIORITY_LEVELS: int(1, 1_000_000).default(10),
  DEFAULT_PRIORITY: int(1, 1_000_000).default(5),
  /** The queue dashboard at /admin/queues shows but cannot change jobs. */
  ADMIN_READ_ONLY: flag.default(true),
}).refine((c) => c.DEFAULT_PRIORITY <= c.PRIORITY_LEVELS, { path: ['DEFAULT_PRIORITY'], error: 'must not exceed PRIORITY_LEVELS' });

export const workerEnvSchema = z.object({
  ...common,
  WORKER_ID: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default(`${hostname()}-${process.pid}`),
  MODELS: z.string().default('').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  DEVICE: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  CUDA_DEVICE_ID: int(0, 64).default(0),
  INTRA_OP_THREADS: int(1, 256).default(1),
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: int(0, 65535).default(9100),
  OOM_GROW_AFTER: int(1, 1_000_000).default(20),
  /** Tune each model's batch cap at run time to the best measured throughput (off: max_batch_size). */
  BATCH_TUNING: flag.default(true),
  WORKER_CONCURRENCY: int(0, 4096).default(0),
  LOCK_DURATION_MS: int(1000, 3_600_000).default(30_000),
  MEMORY_HEADROOM_MB: int(0).default(0),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(30_000),
  STALLED_INTERVAL_MS: int(1000, 3_600_000).default(30_000),
  /** /live fails when the inference thread has not answered a ping for this long (stuck in a run). */
  LIVENESS_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  /** /live fails when the main event loop stalled for longer than this. */
  EVENT_LOOP_BLOCK_MS: int(100, 600_000).default(5_000),
});

export type ApiConfig = z.infer<typeof apiEnvSchema>;
export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parse<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parse(apiEnvSchema, env);
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parse(workerEnvSchema, env);
}

/** The config as it may be logged: credentials in URLs are masked. */
export function redact<T extends Record<string, unknown>>(config: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    out[k] = typeof v === 'string' ? v.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@') : v;
  }
  return out as T;
}
