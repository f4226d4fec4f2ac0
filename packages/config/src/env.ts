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

const common = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  MODEL_REPOSITORY: z.string().min(1).default('.run/models'),
  LOG_LEVEL: logLevel.default('info'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('tessera'),
  HEARTBEAT_INTERVAL_MS: int(100, 60_000).default(1000),
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
  BODY_LIMIT: bytes.default(8 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  TRUST_PROXY: int(0, 10).default(1),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
});

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
  WORKER_CONCURRENCY: int(0, 4096).default(0),
  LOCK_DURATION_MS: int(1000, 3_600_000).default(30_000),
  MEMORY_HEADROOM_MB: int(0).default(0),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(30_000),
  STALLED_INTERVAL_MS: int(1000, 3_600_000).default(30_000),
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
