import { z } from 'zod';
import { isIP } from 'node:net';
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
  .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'], {
    error: (issue) => `expected on or off, got ${JSON.stringify(issue.input)}`,
  })
  .transform((v) => ['on', 'true', '1', 'yes'].includes(v));

const NAMED_PROXIES = ['loopback', 'linklocal', 'uniquelocal'];

/** A proxy address, CIDR or name (loopback, linklocal, uniquelocal), as Express' `trust proxy` takes them. */
function isProxyAddress(entry: string): boolean {
  if (NAMED_PROXIES.includes(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * The proxies whose X-Forwarded-For the API believes, by address: a hop count would believe
 * whatever a client put in front of the header whenever a request skips the proxy.
 * "none" (or empty) trusts no one.
 */
const trustProxy = z.string().transform((v, ctx) => {
  const entries = v
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 1 && /^\d+$/.test(entries[0]!)) {
    ctx.addIssue({
      code: 'custom',
      message: `takes the trusted proxies' addresses or CIDRs (e.g. loopback,10.0.0.0/8), no longer a hop count; for nginx on the same host write 'loopback', else the proxies' network`,
    });
    return z.NEVER;
  }
  if (entries.length === 1 && entries[0] === 'none') return [];
  const bad = entries.filter((e) => !isProxyAddress(e));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `not an address, CIDR or one of ${NAMED_PROXIES.join(', ')}: ${bad.join(', ')}`,
    });
    return z.NEVER;
  }
  return entries;
});

const common = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  MODEL_REPOSITORY: z.string().min(1).default('.run/models'),
  LOG_LEVEL: logLevel.default('info'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('tessera'),
  HEARTBEAT_INTERVAL_MS: int(100, 60_000).default(1000),
  /** OpenTelemetry's standard variable: tracing is on, to this OTLP/HTTP collector, when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /**
   * Sentinels watching the Redis primary ("host:port,host:port"): when set, connections ask them
   * for the current primary of REDIS_SENTINEL_NAME (credentials and db still come from REDIS_URL).
   */
  REDIS_SENTINELS: z
    .string()
    .default('')
    .transform((v, ctx) => parseSentinels(v, ctx)),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('tessera'),
  REDIS_SENTINEL_PASSWORD: z.string().default(''),
};

export const apiEnvSchema = z
  .object({
    ...common,
    HOST: z.string().default('127.0.0.1'),
    PORT: int(0, 65535).default(3000),
    /** The Open Inference Protocol over gRPC, on HOST (0: not served). */
    GRPC_PORT: int(0, 65535).default(0),
    /** /metrics and /live on a listener of their own, never the public port (0: any free port). */
    METRICS_HOST: z.string().default('127.0.0.1'),
    METRICS_PORT: int(0, 65535).default(9101),
    REPLICA_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/)
      .default(`${hostname()}-${process.pid}`),
    DEFAULT_MODEL: z.string().default('lid176'),
    MAX_TEXTS: int(1, 4096).default(64),
    MAX_TEXT_LENGTH: int(1, 1_000_000).default(10_000),
    MAX_TEXT_TOKENS: int(1, 1_000_000).default(50_000),
    MAX_IMAGES: int(1, 256).default(8),
    MAX_IMAGE_BYTES: bytes.default(4 * 1024 * 1024),
    /** Hard cap: larger images are refused; smaller ones are decoded shrunk to OCR_WORKING_PIXELS. */
    MAX_IMAGE_PIXELS: int(1, 200_000_000).default(50_000_000),
    /** Pixels of a page as OCR reads it: larger images are shrunk on load to this (keeping the aspect). */
    OCR_WORKING_PIXELS: int(65_536, 50_000_000).default(2048 * 2048),
    /**
     * Largest body (after inflating a compressed one). 64 MiB fits the largest input served: a
     * 1024×1024 page for ocr-det as FP32 JSON, as Triton's client writes it (about 61 MiB).
     * nginx.conf's client_max_body_size sits just above it.
     */
    BODY_LIMIT: bytes.default(64 * 1024 * 1024),
    REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
    TRUST_PROXY: trustProxy.default(['loopback']),
    /** Bound on every Redis call on a request's path (auth, admission, enqueue, readiness): a frozen Redis gives 503 after this long. */
    REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(1000),
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
    /** All response-cache entries together, in Redis bytes; the oldest go to make room. */
    RESPONSE_CACHE_MAX_BYTES: bytes.default(64 * 1024 * 1024),
    /** Share of each model's queue cap (max_queue_items) one key may hold; 100: no share. */
    KEY_QUEUE_SHARE_PERCENT: int(1, 100).default(50),
    /** Text boxes one page may have; a page with more gets 400 before any is read. */
    MAX_BOXES_PER_PAGE: int(1, 10_000).default(200),
    /** Decoded bytes of one request's images together (width × height × channels × bytes per sample, before shrinking). */
    MAX_DECODED_BYTES: bytes.default(400 * 1024 * 1024),
    /** Images this replica decodes at once, over all requests (each request decodes one at a time). */
    MAX_CONCURRENT_DECODES: int(1, 64).default(2),
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
    /** Browser origins (scheme://host[:port], comma-separated) that may call the API cross-origin; none by default. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v, ctx) => {
        const origins = v
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean);
        for (const o of origins) {
          if (o === '*' || !/^https?:\/\/[^/\s]+$/.test(o))
            ctx.addIssue({
              code: 'custom',
              message: `'${o}' is not an origin (scheme://host[:port]; '*' is not allowed)`,
            });
        }
        return origins;
      }),
    /** How long a dashboard session (signed in at /admin/login) lasts. */
    ADMIN_SESSION_TTL_S: int(60, 86_400).default(3600),
    /** Mark the session cookie Secure even when no trusted proxy said the request came over HTTPS. */
    ADMIN_COOKIE_SECURE: flag.default(false),
    /** The queue dashboard at /admin/queues shows but cannot change jobs. */
    ADMIN_READ_ONLY: flag.default(true),
  })
  .refine((c) => c.DEFAULT_PRIORITY <= c.PRIORITY_LEVELS, {
    path: ['DEFAULT_PRIORITY'],
    error: 'must not exceed PRIORITY_LEVELS',
  });

export const workerEnvSchema = z
  .object({
    ...common,
    WORKER_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/)
      .default(`${hostname()}-${process.pid}`),
    MODELS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    DEVICE: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
    CUDA_DEVICE_ID: int(0, 64).default(0),
    INTRA_OP_THREADS: int(1, 256).default(1),
    /** CPU threads all model instances' runs may take at once (0: one per core). */
    INFERENCE_THREADS: int(0, 4096).default(0),
    METRICS_HOST: z.string().default('127.0.0.1'),
    METRICS_PORT: int(0, 65535).default(9100),
    OOM_GROW_AFTER: int(1, 1_000_000).default(20),
    /** Tune each model's batch cap at run time to the best measured throughput (off: max_batch_size). */
    BATCH_TUNING: flag.default(true),
    WORKER_CONCURRENCY: int(0, 4096).default(0),
    /** A dead worker's jobs run elsewhere within workerRecoveryBoundMs() of its death (docs/reliability.md). */
    LOCK_DURATION_MS: int(1000, 3_600_000).default(5_000),
    MEMORY_HEADROOM_MB: int(0).default(0),
    SHUTDOWN_GRACE_MS: int(0, 600_000).default(30_000),
    STALLED_INTERVAL_MS: int(1000, 3_600_000).default(2_000),
    /** /live fails when the inference thread has not answered a ping for this long (stuck in a run). */
    LIVENESS_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
    /** /live fails when the main event loop stalled for longer than this. */
    EVENT_LOOP_BLOCK_MS: int(100, 600_000).default(5_000),
    /** Bytes one batch may allocate for padding alone (models with pad rules). */
    MAX_BATCH_PADDING_BYTES: bytes.default(16 * 1024 * 1024),
    /** Requests share a padded batch only when the longest is at most this many times the shortest. */
    PAD_LENGTH_RATIO: int(1, 1_000_000).default(4),
    /** The API's REQUEST_TIMEOUT_MS: a dead worker's jobs must be recovered well inside it. */
    REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  })
  .refine((c) => workerRecoveryBoundMs(c) < c.REQUEST_TIMEOUT_MS, {
    path: ['LOCK_DURATION_MS'],
    error:
      "a dead worker's jobs would be recovered only after the request deadline (REQUEST_TIMEOUT_MS): lower LOCK_DURATION_MS or STALLED_INTERVAL_MS",
  });

export type RedisSentinel = { host: string; port: number };

function parseSentinels(value: string, ctx: z.RefinementCtx): RedisSentinel[] {
  const sentinels: RedisSentinel[] = [];
  for (const entry of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    if (!m || Number(m[2]) > 65535) {
      ctx.addIssue({ code: 'custom', message: `expected host:port entries separated by commas, got '${entry}'` });
      return [];
    }
    sentinels.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  }
  return sentinels;
}

/**
 * The longest a job held by a worker that died (kill -9, lost host) waits before another worker
 * may run it. BullMQ renews a held job's lock every LOCK_DURATION_MS / 2, so the lock lapses at
 * most LOCK_DURATION_MS after the death; the stalled check (every STALLED_INTERVAL_MS on each
 * live worker) marks active jobs on one pass and moves those still without a lock on the next:
 *
 *   recovery ≤ max(LOCK_DURATION_MS, STALLED_INTERVAL_MS) + STALLED_INTERVAL_MS
 *
 * plus, when no other worker runs, the time a restarted worker takes to start.
 */
export function workerRecoveryBoundMs(c: { LOCK_DURATION_MS: number; STALLED_INTERVAL_MS: number }): number {
  return Math.max(c.LOCK_DURATION_MS, c.STALLED_INTERVAL_MS) + c.STALLED_INTERVAL_MS;
}

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
    if (/PASSWORD$/.test(k) && v) out[k] = '***';
    else out[k] = typeof v === 'string' ? v.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@') : v;
  }
  return out as T;
}
