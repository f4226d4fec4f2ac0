import { DATATYPES } from '@tessera/contract';
import * as z from 'zod';
import { RepositoryError, type RepositoryProblem } from './repository-error.js';

const PROVIDERS = ['cuda', 'cpu'] as const;
const integer = z.number().int();

const padRule = z.strictObject({
  axis: integer.min(0),
  value: z.number(),
});

const cropRule = z.strictObject({
  axis: integer.min(0),
  input: z.string().min(1),
  input_axis: integer.min(0),
  scale: z.number().positive().default(1),
  offset: z.number().int().default(0),
});

const datatype = z.enum(DATATYPES, {
  error: (issue) => `unknown datatype ${JSON.stringify(issue.input)}; expected one of ${DATATYPES.join(', ')}`,
});

const dim = integer.refine((d) => d === -1 || d > 0, { error: 'dimensions are positive sizes or -1 for variable' });

const tensor = z.strictObject({
  name: z.string().min(1),
  datatype: datatype.optional(),
  /** Without the batch dimension, as Triton's `dims`. */
  shape: z.array(dim).optional(),
  pad: z.array(padRule).optional(),
  crop: z.array(cropRule).optional(),
});

/** Every model we serve is deterministic, so caching is on unless a config says otherwise. */
const cacheConfig = z.strictObject({
  enabled: z.boolean().default(true),
  ttl_s: integer
    .min(1)
    .max(7 * 24 * 3600)
    .default(300),
  max_entry_bytes: integer.min(0).default(1024 * 1024),
});

/** Triton's `instance_group` entry: how many sessions of the model, and where they run. */
const instanceGroup = z
  .strictObject({
    count: integer.min(1).max(64).default(1),
    kind: z
      .enum(['KIND_AUTO', 'KIND_GPU', 'KIND_CPU'], {
        error: (issue) =>
          `unknown instance kind ${JSON.stringify(issue.input)}; expected KIND_AUTO, KIND_GPU or KIND_CPU`,
      })
      .default('KIND_AUTO'),
    gpus: z.array(integer.min(0)).min(1).optional(),
  })
  .refine((g) => g.gpus === undefined || g.kind === 'KIND_GPU', { error: 'gpus is only meaningful for kind KIND_GPU' });
/** Which version directories are served, as Triton's `version_policy`. */
const versionPolicy = z.union([
  z.strictObject({ latest: z.strictObject({ num_versions: integer.min(1) }) }),
  z.strictObject({ all: z.strictObject({}) }),
  z.strictObject({ specific: z.strictObject({ versions: z.array(integer.min(1)).min(1) }) }),
]);

const uniqueNames = (list: { name: string }[] | undefined) =>
  !list || new Set(list.map((t) => t.name)).size === list.length;

export const modelConfigSchema = z.strictObject({
  name: z.string().min(1),
  platform: z
    .literal('onnxruntime_onnx', { error: 'platform must be "onnxruntime_onnx", the only one served' })
    .default('onnxruntime_onnx'),
  max_batch_size: integer.min(0).max(1024).default(64),
  max_queue_delay_ms: z.number().min(0).default(2),
  /** p99 latency objective the batch-size tuner keeps to; absent: most throughput. */
  latency_objective_ms: z.number().positive().max(3_600_000).optional(),
  max_items_per_request: integer.min(1).optional(),
  execution_providers: z
    .array(
      z.enum(PROVIDERS, {
        error: (issue) => `unknown execution provider ${JSON.stringify(issue.input)}; expected cuda or cpu`,
      }),
    )
    .min(1)
    .refine((list) => new Set(list).size === list.length, { error: 'execution providers must not repeat' })
    .default(['cuda', 'cpu']),
  default_model_filename: z
    .string()
    .min(1)
    .refine((f) => !/[\\/]/.test(f) && f !== '.' && f !== '..', {
      error: 'default_model_filename must be a plain file name',
    })
    .default('model.onnx'),
  inputs: z.array(tensor).refine(uniqueNames, { error: 'input names must be unique' }).optional(),
  outputs: z.array(tensor).refine(uniqueNames, { error: 'output names must be unique' }).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  /** Items admitted and not yet answered, across all API replicas. */
  max_queue_items: integer.min(1).default(4096),
  /** Default request deadline; REQUEST_TIMEOUT_MS when absent. */
  timeout_ms: integer.min(1).max(3_600_000).optional(),
  cache: cacheConfig.default({ enabled: true, ttl_s: 300, max_entry_bytes: 1024 * 1024 }),
  /** Sessions per worker (Triton's form: a list of groups; a single group is accepted too). */
  instance_group: z
    .preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(instanceGroup).min(1))
    .optional(),
  /** Every version directory unless set (Triton's default is the latest one only). */
  version_policy: versionPolicy.default({ all: {} }),
});

/**
 * max_items_per_request against max_batch_size, checked on the raw value so it is reported
 * alongside every other problem rather than only once the rest of the file parses.
 */
function itemsProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { max_batch_size: mbs = 64, max_items_per_request: items } = raw as Record<string, unknown>;
  if (typeof mbs !== 'number' || typeof items !== 'number') return undefined;
  if (mbs > 0 && items > mbs) return `max_items_per_request (${items}) exceeds max_batch_size (${mbs})`;
  if (mbs === 0 && items !== 1)
    return 'max_items_per_request must be 1 when max_batch_size is 0 (the model has no batch dimension)';
  return undefined;
}

type ParsedConfig = z.output<typeof modelConfigSchema>;

/** A model's config.json with defaults applied. */
export type ModelConfig = ParsedConfig & { max_items_per_request: number };
export type TensorConfig = z.output<typeof tensor>;

function where(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** Parses a config.json value, returning either the config (defaults applied) or all problems. */
export function checkModelConfig(
  raw: unknown,
  file: string,
): { config: ModelConfig } | { problems: RepositoryProblem[] } {
  const result = modelConfigSchema.safeParse(raw);
  const problems: RepositoryProblem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({
        file,
        message: issue.path.length > 0 ? `${where(issue.path)}: ${issue.message}` : issue.message,
      }));
  const items = itemsProblem(raw);
  if (items) problems.push({ file, message: items });
  if (!result.success || problems.length > 0) return { problems };
  const c = result.data;
  return {
    config: { ...c, max_items_per_request: c.max_items_per_request ?? (c.max_batch_size > 0 ? c.max_batch_size : 1) },
  };
}

/** Parses config.json text or an already parsed value; throws RepositoryError listing every problem. */
export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new RepositoryError([{ file, message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  const checked = checkModelConfig(value, file);
  if ('problems' in checked) throw new RepositoryError(checked.problems);
  return checked.config;
}
