import { ServiceError, type ModelSpec } from '@tessera/contract';

/**
 * Shape of a rectangular nested array, or a 400 that says where it is ragged. No deeper than
 * `maxDepth` arrays (the input's rank with its batch dimension, plus one), so the recursion is
 * bounded whatever the body nests.
 */
export function inferShape(value: unknown, maxDepth: number, path = 'inputs'): number[] {
  if (!Array.isArray(value)) return [];
  if (maxDepth <= 0)
    throw new ServiceError('invalid_input', `${path} nests arrays deeper than the input's rank allows`);
  if (value.length === 0) throw new ServiceError('invalid_input', `${path} is an empty array`);
  const inner = inferShape(value[0], maxDepth - 1, `${path}[0]`);
  for (let i = 1; i < value.length; i++) {
    const other = inferShape(value[i], maxDepth - 1, `${path}[${i}]`);
    if (other.length !== inner.length || other.some((d, j) => d !== inner[j])) {
      throw new ServiceError(
        'invalid_input',
        `${path} is ragged: ${path}[0] has shape ${JSON.stringify(inner)} but ${path}[${i}] has ${JSON.stringify(other)}`,
      );
    }
  }
  return [value.length, ...inner];
}

/**
 * The /predict shorthand for tensors: either OIP input objects, an object of input name →
 * batch-first nested array, or (for single-input models) the nested array itself. Returns an
 * OIP request body so that one validator serves both endpoints.
 */
export function predictToOip(model: ModelSpec, inputs: unknown, outputs: unknown): Record<string, unknown> {
  let named: Record<string, unknown>;
  if (
    Array.isArray(inputs) &&
    inputs.length > 0 &&
    inputs.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))
  ) {
    return { inputs, ...(outputs !== undefined ? { outputs: toOutputs(outputs) } : {}) };
  }
  if (Array.isArray(inputs)) {
    const only = model.inputs.length === 1 ? model.inputs[0] : undefined;
    if (!only) {
      throw new ServiceError(
        'invalid_input',
        `model '${model.name}' takes ${model.inputs.length} inputs; send 'inputs' as an object keyed by ${model.inputs.map((s) => `'${s.name}'`).join(', ')}`,
      );
    }
    named = { [only.name]: inputs };
  } else if (typeof inputs === 'object' && inputs !== null) {
    named = inputs as Record<string, unknown>;
  } else {
    throw new ServiceError('bad_request', "'inputs' must be an array or an object of input name → array");
  }
  const oipInputs = Object.entries(named).map(([name, data]) => {
    const spec = model.inputs.find((s) => s.name === name);
    // An unknown input is refused by the validator, which names the model's inputs.
    if (!spec) return { name, data };
    const rank = spec.shape.length + (model.maxBatchSize > 0 ? 1 : 0);
    return { name, datatype: spec.datatype, shape: inferShape(data, rank + 1, `inputs.${name}`), data };
  });
  return { inputs: oipInputs, ...(outputs !== undefined ? { outputs: toOutputs(outputs) } : {}) };
}

function toOutputs(outputs: unknown): unknown {
  if (!Array.isArray(outputs)) throw new ServiceError('bad_request', "'outputs' must be an array of output names");
  return outputs.map((o) => (typeof o === 'string' ? { name: o } : o));
}
