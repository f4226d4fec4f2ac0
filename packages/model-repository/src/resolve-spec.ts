import type { CropRule, Datatype, InstanceGroup, ModelSpec, PadRule, TensorSpec } from '@tessera/contract';
import type { Signature, SigTensor } from '@tessera/onnx';
import type { ModelConfig, TensorConfig } from './model-config.js';

const fmt = (shape: readonly number[]) => JSON.stringify(shape);

/** Pad values are cast to the tensor's type; one that would change on the way is a mistake. */
function padValueProblem(datatype: Datatype, value: number): string | undefined {
  if (datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64') return undefined;
  if (datatype === 'BOOL') return value === 0 || value === 1 ? undefined : 'must be 0 or 1 for BOOL';
  if (!Number.isSafeInteger(value)) return `must be an integer for ${datatype}`;
  if (datatype.startsWith('UINT') && value < 0) return `must not be negative for ${datatype}`;
  return undefined;
}

interface Side {
  kind: 'input' | 'output';
  graph: SigTensor[];
  config: TensorConfig[] | undefined;
}

/**
 * Merges one side (inputs or outputs) of the graph with what config.json says about it.
 * Every graph tensor is served, in graph order; config entries refine them (narrow variable
 * dimensions, add pad/crop rules) and must agree with the graph where both are explicit.
 */
function mergeSide(side: Side, batched: boolean, problems: string[]): TensorSpec[] {
  const configured = new Map((side.config ?? []).map((t) => [t.name, t]));
  for (const name of configured.keys()) {
    if (!side.graph.some((g) => g.name === name)) {
      problems.push(
        `config ${side.kind} '${name}' is not an ${side.kind} of the graph (graph ${side.kind}s: ${side.graph.map((g) => `'${g.name}'`).join(', ') || 'none'})`,
      );
    }
  }
  const specs: TensorSpec[] = [];
  for (const g of side.graph) {
    const c = configured.get(g.name);
    const what = `${side.kind} '${g.name}'`;
    if (!g.datatype) {
      problems.push(`graph ${what} has ONNX element type ${g.elemType}, which cannot be served`);
      continue;
    }
    if (c?.datatype && c.datatype !== g.datatype) {
      problems.push(`config ${what} has datatype ${c.datatype} but the graph says ${g.datatype}`);
      continue;
    }
    let graphShape: number[] | undefined;
    if (g.rankKnown) {
      graphShape = g.shape;
      if (batched) {
        if (graphShape.length === 0) {
          problems.push(`graph ${what} is a scalar, so it has no batch dimension; set max_batch_size to 0`);
          continue;
        }
        if (graphShape[0] !== -1) {
          problems.push(
            `graph ${what} has a fixed batch dimension ${graphShape[0]} (shape ${fmt(g.shape)}); it must be variable when max_batch_size > 0, or set max_batch_size to 0`,
          );
          continue;
        }
        graphShape = graphShape.slice(1);
      }
    }
    let shape = graphShape;
    if (c?.shape) {
      if (graphShape && c.shape.length !== graphShape.length) {
        problems.push(
          `config ${what} has shape ${fmt(c.shape)} (rank ${c.shape.length}) but the graph has ${fmt(graphShape)} (rank ${graphShape.length}) without the batch dimension`,
        );
        continue;
      }
      const clash = graphShape?.findIndex((d, i) => d !== -1 && d !== c.shape![i]) ?? -1;
      if (clash >= 0) {
        problems.push(
          `config ${what} has shape ${fmt(c.shape)} but the graph fixes axis ${clash} to ${graphShape![clash]} (graph shape ${fmt(graphShape!)} without the batch dimension)`,
        );
        continue;
      }
      shape = c.shape;
    }
    if (!shape) {
      problems.push(`graph ${what} has no known rank; give its shape in config.json`);
      continue;
    }
    const spec: TensorSpec = { name: g.name, datatype: g.datatype, shape: [...shape] };
    if (c?.pad) spec.pad = c.pad.map((p): PadRule => ({ axis: p.axis, value: p.value }));
    if (c?.crop)
      spec.crop = c.crop.map((r): CropRule => ({
        axis: r.axis,
        input: r.input,
        inputAxis: r.input_axis,
        scale: r.scale,
        ...(r.offset ? { offset: r.offset } : {}),
      }));
    specs.push(spec);
  }
  return specs;
}

function checkRules(
  inputs: TensorSpec[],
  outputs: TensorSpec[],
  graphInputs: Set<string>,
  batched: boolean,
  problems: string[],
): void {
  for (const o of outputs) if (o.pad) problems.push(`output '${o.name}' has pad rules; padding applies to inputs only`);
  for (const i of inputs)
    if (i.crop) problems.push(`input '${i.name}' has crop rules; cropping applies to outputs only`);
  for (const t of inputs) {
    const seen = new Set<number>();
    for (const p of t.pad ?? []) {
      const where = `input '${t.name}' pad axis ${p.axis}`;
      if (!batched) problems.push(`${where}: padding makes batch items uniform, but max_batch_size is 0`);
      if (seen.has(p.axis)) problems.push(`${where} is given twice`);
      seen.add(p.axis);
      if (p.axis >= t.shape.length)
        problems.push(
          `${where} is out of range: shape ${fmt(t.shape)} has ${t.shape.length} axes (the batch dimension is not counted)`,
        );
      else if (t.shape[p.axis] !== -1)
        problems.push(
          `${where} is a fixed dimension of size ${t.shape[p.axis]} (shape ${fmt(t.shape)}); only variable (-1) dimensions can be padded`,
        );
      const bad = padValueProblem(t.datatype, p.value);
      if (bad) problems.push(`${where}: value ${p.value} ${bad}`);
    }
  }
  const byName = new Map(inputs.map((i) => [i.name, i]));
  for (const t of outputs) {
    const seen = new Set<number>();
    for (const r of t.crop ?? []) {
      const where = `output '${t.name}' crop axis ${r.axis}`;
      if (!batched) problems.push(`${where}: cropping undoes batch padding, but max_batch_size is 0`);
      if (seen.has(r.axis)) problems.push(`${where} is given twice`);
      seen.add(r.axis);
      if (r.axis >= t.shape.length)
        problems.push(
          `${where} is out of range: shape ${fmt(t.shape)} has ${t.shape.length} axes (the batch dimension is not counted)`,
        );
      else if (t.shape[r.axis] !== -1)
        problems.push(
          `${where} is a fixed dimension of size ${t.shape[r.axis]} (shape ${fmt(t.shape)}); only variable (-1) dimensions can be cropped`,
        );
      const input = byName.get(r.input);
      if (!input) {
        // A graph input missing here was already reported as broken; don't blame the crop rule.
        if (!graphInputs.has(r.input)) {
          problems.push(
            `${where} follows unknown input '${r.input}' (inputs: ${[...graphInputs].map((n) => `'${n}'`).join(', ')})`,
          );
        }
        continue;
      }
      if (r.inputAxis >= input.shape.length) {
        problems.push(
          `${where} follows input '${r.input}' axis ${r.inputAxis}, which is out of range for shape ${fmt(input.shape)}`,
        );
      } else if (!input.pad?.some((p) => p.axis === r.inputAxis)) {
        problems.push(
          `${where} follows input '${r.input}' axis ${r.inputAxis}, which has no pad rule, so there is nothing to crop`,
        );
      }
    }
  }
}

function instanceGroups(raw: NonNullable<ModelConfig['instance_group']>): InstanceGroup[] {
  return raw.map((g) => ({ count: g.count, kind: g.kind, ...(g.gpus !== undefined ? { gpus: [...g.gpus] } : {}) }));
}

/** Combines a parsed config with the model file's signature; problems are collected, not thrown. */
export function resolveModelSpec(
  config: ModelConfig,
  signature: Signature,
  where: { version: string; file: string },
): { spec: ModelSpec } | { problems: string[] } {
  const problems: string[] = [];
  const batched = config.max_batch_size > 0;
  const inputs = mergeSide({ kind: 'input', graph: signature.inputs, config: config.inputs }, batched, problems);
  const outputs = mergeSide({ kind: 'output', graph: signature.outputs, config: config.outputs }, batched, problems);
  if (signature.inputs.length === 0) problems.push('the graph has no inputs');
  if (signature.outputs.length === 0) problems.push('the graph has no outputs');
  checkRules(inputs, outputs, new Set(signature.inputs.map((i) => i.name)), batched, problems);
  if (problems.length > 0) return { problems };
  return {
    spec: {
      name: config.name,
      version: where.version,
      platform: config.platform,
      file: where.file,
      maxBatchSize: config.max_batch_size,
      maxQueueDelayMs: config.max_queue_delay_ms,
      ...(config.latency_objective_ms !== undefined ? { latencyObjectiveMs: config.latency_objective_ms } : {}),
      maxItemsPerRequest: config.max_items_per_request,
      inputs,
      outputs,
      executionProviders: [...config.execution_providers],
      labels: { ...config.labels },
      cache: { enabled: config.cache.enabled, ttlS: config.cache.ttl_s, maxEntryBytes: config.cache.max_entry_bytes },
      maxQueueItems: config.max_queue_items,
      ...(config.timeout_ms !== undefined ? { timeoutMs: config.timeout_ms } : {}),
      ...(config.instance_group !== undefined ? { instanceGroups: instanceGroups(config.instance_group) } : {}),
    },
  };
}
