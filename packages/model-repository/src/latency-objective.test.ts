import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Signature, SigTensor } from '@tessera/onnx';
import { parseModelConfig } from './model-config.js';
import { RepositoryError } from './repository-error.js';
import { resolveModelSpec } from './resolve-spec.js';

const tensor = (name: string): SigTensor => ({
  name,
  datatype: 'FP32',
  elemType: 1,
  shape: [-1, 2],
  dimParams: [undefined, undefined],
  rankKnown: true,
});
const sig: Signature = { inputs: [tensor('x')], outputs: [tensor('y')], opset: 17, producer: '', irVersion: 8 };
const where = { version: '1', file: '/r/m/1/model.onnx' };

test('latency_objective_ms reaches the spec as latencyObjectiveMs; absent means none', () => {
  const withObjective = resolveModelSpec(parseModelConfig({ name: 'm', latency_objective_ms: 200 }), sig, where);
  assert.ok('spec' in withObjective);
  assert.equal(withObjective.spec.latencyObjectiveMs, 200);
  const without = resolveModelSpec(parseModelConfig({ name: 'm' }), sig, where);
  assert.ok('spec' in without);
  assert.equal('latencyObjectiveMs' in without.spec, false);
});

test('latency_objective_ms must be a positive number of milliseconds', () => {
  for (const bad of [0, -5, 'fast']) {
    assert.throws(
      () => parseModelConfig({ name: 'm', latency_objective_ms: bad }, '/r/m/config.json'),
      (err: unknown) => {
        assert.ok(err instanceof RepositoryError);
        assert.match(err.problems.map((p) => p.message).join('\n'), /latency_objective_ms/);
        return true;
      },
    );
  }
});
