import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from './args.js';

test('arguments: defaults, lists, and unknown options', () => {
  const o = parseArgs([], { INTRA_OP_THREADS: '2' }, '/repo', new Date('2026-01-02T03:04:05.678Z'));
  assert.deepEqual(o.models, ['cost', 'ocr-rec', 'lid176']);
  assert.deepEqual(o.concurrency, [1, 8, 64, 256]);
  assert.deepEqual(o.contenders, ['ceiling', 'seed', 'full', 'floor']);
  assert.equal(o.durationS, 10);
  assert.equal(o.intraOpThreads, 2);
  assert.equal(o.replicas, 3, 'the targets are set for three API replicas');
  assert.equal(parseArgs(['--replicas', '1'], {}, '/').replicas, 1);
  assert.throws(() => parseArgs(['--replicas', '0'], {}, '/'), UsageError);
  assert.equal(o.outDir, '/repo/bench-results/2026-01-02T03-04-05-678');
  const p = parseArgs(
    ['--models', 'cost,ocr-rec', '--concurrency=1,8', '--contenders', 'full,ceiling', '--duration', '5'],
    {},
    '/repo',
  );
  assert.deepEqual(p.models, ['cost', 'ocr-rec']);
  assert.deepEqual(p.concurrency, [1, 8]);
  assert.deepEqual(p.contenders, ['ceiling', 'full']);
  assert.equal(p.ceilingSecondsPerSize, 5 / 3);
  assert.throws(() => parseArgs(['--speed', '3'], {}, '/'), UsageError);
  assert.throws(() => parseArgs(['--concurrency', '0'], {}, '/'), UsageError);
  assert.throws(() => parseArgs(['--contenders', 'triton'], {}, '/'), UsageError);
});

test('arguments: the messages name the option, and --mixed takes an optional list', () => {
  const message = (argv: string[]) => {
    try {
      parseArgs(argv, {}, '/');
    } catch (err) {
      assert.ok(err instanceof UsageError, String(err));
      return err.message;
    }
    assert.fail(`${argv.join(' ')} was accepted`);
  };
  assert.equal(message(['--speed', '3']), 'unknown option --speed');
  assert.equal(message(['--models']), '--models needs a value');
  assert.equal(message(['--models', '--duration', '5']), '--models needs a value');
  assert.equal(message(['cost']), 'unexpected argument "cost"');
  assert.equal(message(['--help']), '', 'help: the usage alone');
  assert.equal(message(['-h']), '');
  assert.equal(message(['--duration', '0']), '--duration: "0" is not a positive number');
  assert.equal(message(['--warmup=-1']), '--warmup: "-1" is not a number >= 0');
  assert.equal(message(['--concurrency', '1,x']), '--concurrency: "x" is not a positive integer');
  assert.equal(message(['--models', ',']), '--models needs at least one value');
  assert.deepEqual(parseArgs(['--mixed'], {}, '/').mixed, []);
  assert.deepEqual(parseArgs(['--mixed', '--duration', '4'], {}, '/').mixed, []);
  assert.deepEqual(parseArgs(['--mixed=pools,default'], {}, '/').mixed, ['pools', 'default']);
  assert.equal(parseArgs([], {}, '/').mixed, undefined);
  assert.equal(parseArgs(['--verbose'], {}, '/').verbose, true);
  assert.equal(parseArgs(['--repository', 'm', '--out=o'], {}, '/r').modelRepository, '/r/m');
});
