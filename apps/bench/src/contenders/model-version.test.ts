import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from '../args.js';
import { modelNames, modelPath, splitModel } from './model-version.js';

test('--versions measures each model at each version, named model@version', () => {
  assert.deepEqual(parseArgs(['--models', 'lid176', '--versions', '1,2'], {}, '/repo').versions, ['1', '2']);
  assert.deepEqual(parseArgs([], {}, '/repo').versions, []);
  assert.throws(() => parseArgs(['--versions', '0'], {}, '/repo'), UsageError);
});

test('a versioned model has its own protocol path; the worker loads it by name', () => {
  assert.deepEqual(splitModel('lid176@2'), { name: 'lid176', version: '2' });
  assert.equal(modelPath('lid176@2'), '/v2/models/lid176/versions/2');
  assert.equal(modelPath('ocr-rec'), '/v2/models/ocr-rec');
  assert.deepEqual(modelNames(['lid176@1', 'lid176@2', 'cost']), ['lid176', 'cost']);
});
