import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { assertPortFree, freePort, freePorts, isListening, isPortFree } from './ports.js';

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
