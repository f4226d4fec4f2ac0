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

function spec(raw: Record<string, unknown>) {
  const resolved = resolveModelSpec(parseModelConfig({ name: 'm', ...raw }), sig, where);
  assert.ok('spec' in resolved);
  return resolved.spec;
}

test("instance_group takes Triton's list of groups or one group, with count 1 and KIND_AUTO as defaults", () => {
  assert.deepEqual(
    spec({ instance_group: [{ count: 2, kind: 'KIND_GPU', gpus: [0] }, { kind: 'KIND_CPU' }] }).instanceGroups,
    [
      { count: 2, kind: 'KIND_GPU', gpus: [0] },
      { count: 1, kind: 'KIND_CPU' },
    ],
  );
  assert.deepEqual(spec({ instance_group: { count: 3 } }).instanceGroups, [{ count: 3, kind: 'KIND_AUTO' }]);
  assert.equal('instanceGroups' in spec({}), false);
});

test('instance_group problems are reported with their place', () => {
  for (const [bad, pattern] of [
    [{ count: 0 }, /instance_group/],
    [{ kind: 'KIND_TPU' }, /unknown instance kind/],
    [{ kind: 'KIND_CPU', gpus: [0] }, /gpus is only meaningful/],
    [[], /instance_group/],
  ] as const) {
    assert.throws(
      () => parseModelConfig({ name: 'm', instance_group: bad }, '/r/m/config.json'),
      (err: unknown) => {
        assert.ok(err instanceof RepositoryError);
        assert.match(err.problems.map((p) => p.message).join('\n'), pattern);
        return true;
      },
    );
  }
});
