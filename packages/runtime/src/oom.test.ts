import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const child = fileURLToPath(new URL('./testing/oom-child.js', import.meta.url));

test(
  'a real allocation failure is an out_of_memory error, and the runner recovers after reset',
  { skip: process.platform !== 'linux' },
  async (t) => {
    // Tile output for 2048 rows is 2 GiB, far past 512 MiB of headroom; 16 rows take 16 MiB.
    const { stdout } = await promisify(execFile)(process.execPath, [child, '512', '2048', '16'], { timeout: 120_000 });
    const result = JSON.parse(stdout);
    t.diagnostic(`address-space limit ${Math.round(result.limitMb)} MiB; ORT said: ${result.big.message}`);
    assert.ok(Number.isFinite(result.limitMb), 'a finite soft RLIMIT_AS was in force');
    assert.equal(result.big.ok, false);
    assert.equal(result.big.code, 'out_of_memory');
    assert.equal(result.big.oom, true);
    assert.match(result.big.message, /failed to allocate memory|bad_alloc/i);
    // Each of the 4 inputs is repeated 65536 times and summed.
    assert.deepEqual(result.small, { ok: true, first: 4 * 65536, computeMs: result.small.computeMs });
    assert.equal(result.bigAgain.code, 'out_of_memory');
    assert.equal(result.smallAgain.ok, true);
    assert.ok(result.log.includes('address-space limit applied'));
  },
);
