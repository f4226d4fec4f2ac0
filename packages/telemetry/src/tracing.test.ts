import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, initTracing, tracing } from './tracing.js';

test('off without an endpoint: nothing is recorded and a parent traceparent passes through', () => {
  assert.equal(initTracing('test', undefined).enabled, false);
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const span = tracing().start('x', { parent });
  assert.equal(span.traceparent, parent);
  assert.equal(tracing().start('y').traceparent, undefined);
});

test('traceparents are formatted as W3C trace context', () => {
  assert.equal(
    formatTraceparent({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  );
});
