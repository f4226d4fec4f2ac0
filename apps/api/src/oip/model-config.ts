import type { ApiConfig } from '@tessera/config';
import { modelKey, type Datatype, type ModelSpec, type TensorSpec } from '@tessera/contract';
import type { WorkerInfo } from '@tessera/queue';

/** Triton's `DataType` names (model_config.proto) for the OIP datatypes. */
const TRITON_TYPE: Record<Datatype | 'BYTES', string> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
} as Record<Datatype | 'BYTES', string>;

export function tritonDatatype(datatype: string): string {
  return TRITON_TYPE[datatype as Datatype] ?? `TYPE_${datatype}`;
}

/**
 * A model version's configuration as Triton's `GET /v2/models/{m}/config` returns it (the JSON
 * of model_config.proto), built from the served spec and what the live workers report: the
 * instance kind from the execution provider in use, and the batch size the tuner prefers.
 * Fields this server has no counterpart for are left out rather than invented.
 */
export function tritonModelConfig(
  model: ModelSpec,
  workers: readonly WorkerInfo[],
  config: ApiConfig,
): Record<string, unknown> {
  const key = modelKey(model);
  const serving = workers.filter((w) => w.models.includes(key));
  const providers = [...new Set(serving.map((w) => w.providers[key]).filter((p): p is string => p !== undefined))];
  const caps = [...new Set(serving.map((w) => w.caps[key]).filter((c): c is number => c !== undefined && c > 0))].sort(
    (a, b) => a - b,
  );
  const tensor = (t: TensorSpec) => ({ name: t.name, data_type: tritonDatatype(t.datatype), dims: [...t.shape] });
  return {
    name: model.name,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: model.versionPolicy ?? { all: {} },
    max_batch_size: model.maxBatchSize,
    input: model.inputs.map((t) => ({
      ...tensor(t),
      format: 'FORMAT_NONE',
      allow_ragged_batch: false,
      optional: false,
    })),
    output: model.outputs.map((t) => ({ ...tensor(t), label_filename: '' })),
    ...(model.maxBatchSize > 0
      ? {
          dynamic_batching: {
            max_queue_delay_microseconds: Math.round(model.maxQueueDelayMs * 1000),
            ...(caps.length > 0 ? { preferred_batch_size: caps } : {}),
            preserve_ordering: false,
            priority_levels: config.PRIORITY_LEVELS,
            default_priority_level: config.DEFAULT_PRIORITY,
            default_queue_policy: {
              timeout_action: 'REJECT',
              default_timeout_microseconds: (model.timeoutMs ?? config.REQUEST_TIMEOUT_MS) * 1000,
              allow_timeout_override: true,
              max_queue_size: model.maxQueueItems ?? 4096,
            },
          },
        }
      : {}),
    instance_group: (providers.length > 0 ? providers : ['none']).map((p) => ({
      name: `${model.name}_${p}`,
      kind: p === 'cuda' ? 'KIND_GPU' : 'KIND_CPU',
      count: serving.filter((w) => w.providers[key] === p).length,
    })),
    default_model_filename: model.file.split('/').at(-1),
    parameters: Object.fromEntries(Object.entries(model.labels).map(([k, v]) => [k, { string_value: v }])),
  };
}
