import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelKey, parseModelKey } from './model-key.js';

test('a model key joins name and version, and splits back at the last @', () => {
  assert.equal(modelKey({ name: 'lid176', version: '2' }), 'lid176@2');
  assert.deepEqual(parseModelKey('pp-ocr.det@10'), { name: 'pp-ocr.det', version: '10' });
  for (const bad of ['lid176', '@2', 'lid176@']) assert.equal(parseModelKey(bad), undefined, bad);
});
