import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuScheduling, ManagedProcess, scheduledCommand } from './process.js';
import { waitFor } from './wait.js';

const SCHED_BATCH = 3;
const policyOf = (pid: number): number =>
  Number(/^policy\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/sched`, 'utf8'))?.[1]);
const logFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'tessera-sched-')), 'child.log');

test('CPU_SCHED: batch unless it says normal; anything else is refused', () => {
  assert.equal(cpuScheduling({}), 'batch');
  assert.equal(cpuScheduling({ CPU_SCHED: 'Batch' }), 'batch');
  assert.equal(cpuScheduling({ CPU_SCHED: 'normal' }), 'normal');
  assert.throws(() => cpuScheduling({ CPU_SCHED: 'fifo' }), /CPU_SCHED must be batch or normal/);
});

test('children run under SCHED_BATCH by default, under the default policy with normal, with their own pid', async (t) => {
  assert.equal(process.platform, 'linux', 'the services are started on Linux (chrt from util-linux)');
  const batch = await ManagedProcess.start({ name: 'sleeper', command: 'sleep', args: ['30'], logFile: logFile() });
  t.after(() => batch.stop({ timeoutMs: 1000 }));
  // The pid is the command itself, not a wrapper: chrt execs it (a wrapper never becomes sleep).
  await waitFor(
    'chrt to exec sleep',
    async () => readFileSync(`/proc/${batch.pid}/cmdline`, 'utf8').startsWith('sleep\0'),
    {
      intervalMs: 5,
    },
  );
  assert.equal(policyOf(batch.pid), SCHED_BATCH);

  const normal = await ManagedProcess.start({
    name: 'sleeper',
    command: 'sleep',
    args: ['30'],
    logFile: logFile(),
    scheduling: 'normal',
  });
  t.after(() => normal.stop({ timeoutMs: 1000 }));
  assert.equal(policyOf(normal.pid), 0);
});

test('a command that does not exist still fails to start as such', async () => {
  assert.deepEqual(scheduledCommand('no-such-command-here', ['x'], 'batch'), ['no-such-command-here', ['x']]);
  await assert.rejects(
    ManagedProcess.start({ name: 'missing', command: 'no-such-command-here', logFile: logFile() }),
    /cannot start missing/,
  );
});
