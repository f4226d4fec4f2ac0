import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultVersion } from './default-version.js';

const labels = { default_version_cpu: '2', default_version_cuda: '1' };

test('the config names the default per provider', () => {
  assert.equal(defaultVersion(['1', '2'], labels, 'cpu'), '2');
  assert.equal(defaultVersion(['1', '2', '3'], labels, 'cuda'), '1');
});

test('without a label, or when the named version is absent, the highest version is the default', () => {
  assert.equal(defaultVersion(['1', '2'], {}, 'cpu'), '2');
  assert.equal(defaultVersion(['1'], labels, 'cpu'), '1');
  assert.equal(defaultVersion([], labels, 'cpu'), undefined);
});
