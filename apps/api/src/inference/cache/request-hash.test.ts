import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec, Tensor } from '@tessera/contract';
import { requestHash } from './request-hash.js';

const model = { name: 'm', version: '1', digest: 'd1' } as ModelSpec;
const t = (data: number[], shape = [1, data.length], name = 'x'): Tensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: new Float32Array(data),
});
const h = (m: ModelSpec, tensors: Tensor[], outputs?: string[]) => requestHash(m, { tensors, outputs });

test('the same inference hashes the same', () => {
  assert.equal(h(model, [t([1, 2, 3, 4])]), h(model, [t([1, 2, 3, 4])]));
});

test('model, version, file digest, bytes, shape, name and requested outputs all change the key', () => {
  const base = h(model, [t([1, 2, 3, 4])]);
  const variants = [
    h({ ...model, name: 'n' }, [t([1, 2, 3, 4])]),
    h({ ...model, version: '2' }, [t([1, 2, 3, 4])]),
    h({ ...model, digest: 'd2' }, [t([1, 2, 3, 4])]),
    h(model, [t([1, 2, 3, 5])]),
    h(model, [t([1, 2, 3, 4], [2, 2])]),
    h(model, [t([1, 2, 3, 4], [1, 4], 'z')]),
    h(model, [t([1, 2, 3, 4])], ['y']),
    h(model, [t([1, 2, 3, 4])], ['y', 'sum']),
    h(model, [t([1, 2, 3, 4])], ['sum', 'y']),
  ];
  for (const v of variants) assert.notEqual(v, base);
  assert.equal(new Set(variants).size, variants.length);
});

test('moving bytes between tensors changes the key', () => {
  assert.notEqual(
    h(model, [t([1, 2], [1, 2], 'a'), t([3], [1, 1], 'b')]),
    h(model, [t([1], [1, 1], 'a'), t([2, 3], [1, 2], 'b')]),
  );
});
