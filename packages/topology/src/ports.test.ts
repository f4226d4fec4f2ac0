import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { assertPortFree, freePort, freePorts, isListening, isPortFree, pickRange } from './ports.js';

test('freePort returns a bindable port', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  assert.equal(await isPortFree(port), true);
  assert.equal(await isListening(port), false);
});

test('freePorts returns distinct ports', async () => {
  const ports = await freePorts(5);
  assert.equal(new Set(ports).size, 5);
});

test('a taken port is reported as taken and listening', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  try {
    assert.equal(await isPortFree(address.port), false);
    assert.equal(await isListening(address.port), true);
    await assert.rejects(assertPortFree(address.port, 'the test'), /already in use; it is needed for the test/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.equal(await isListening(address.port), false);
});

test('free ports are picked below the kernel ephemeral range, which outgoing connections use', async () => {
  const range = pickRange();
  assert.ok(range, 'this Linux machine has an ephemeral range with room below it');
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (const port of await freePorts(20)) {
    assert.ok(port >= range.low && port < low!, `${port} is outside ${range.low}..${low! - 1}`);
  }
});

test('without a readable range, or no room below it, the kernel picks', () => {
  assert.equal(pickRange('/nonexistent/ip_local_port_range'), undefined);
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-ports-'));
  writeFileSync(path.join(dir, 'range'), '1024\t60999\n');
  assert.equal(pickRange(path.join(dir, 'range')), undefined);
  writeFileSync(path.join(dir, 'range'), '32768\t60999\n');
  assert.deepEqual(pickRange(path.join(dir, 'range')), { low: 20_000, high: 32_767 });
});
