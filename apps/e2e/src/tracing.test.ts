import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { createApiKey, freePort, startStack, type Stack } from '@tessera/topology';
import { authorize, request } from './http.js';
import { modelRepository } from './repository.js';

/**
 * Tracing on (OTEL_EXPORTER_OTLP_ENDPOINT) through the real stack: the spans the API replicas
 * and the worker export arrive at a local OTLP/HTTP receiver, decoded from the JSON encoding.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: { intValue?: string | number; stringValue?: string } }[];
}

const spans: (OtlpSpan & { service: string })[] = [];
let receiver: Server;
let stack: Stack;

function startReceiver(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  const port = await freePort();
  receiver = await startReceiver(port);
  stack = await startStack({
    replicas: 2,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-tracing-')),
    env: { LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    workerEnv: { MODELS: 'affine' },
  });
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'tracing-e2e', scopes: ['infer'] })).key);
});

after(async () => {
  await stack?.stop();
  receiver?.close();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

test("one request's spans from nginx's traceparent through API and worker share its trace; a batch links all its requests", async () => {
  // Requests sent together, each with its client's own trace, so that batches hold several.
  const traces = Array.from({ length: 6 }, () => hex(16));
  const answers = await Promise.all(traces.map((traceId, i) => request(`${stack.gatewayUrl}/v2/models/affine/infer`, {
    headers: { traceparent: `00-${traceId}-${hex(8)}-01`, 'cache-control': 'no-store' },
    body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [i, 1, 2, 3] }] },
  })));
  for (const a of answers) assert.equal(a.status, 200, a.text);

  const expected = ['POST request', 'validate', 'admission/enqueue', 'queue wait', 'reply'];
  const namesOf = (traceId: string) => new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.name));
  const complete = () => traces.every((t) => expected.every((n) => namesOf(t).has(n))) && linkedTraces().size === traces.length;
  const batches = () => spans.filter((s) => s.name === 'batch');
  const linkedTraces = () => new Set(batches().flatMap((b) => (b.links ?? []).map((l) => l.traceId)).filter((t) => traces.includes(t)));
  for (let i = 0; i < 100 && !complete(); i++) await sleep(100);

  for (const traceId of traces) {
    const mine = spans.filter((s) => s.traceId === traceId);
    assert.deepEqual(expected.filter((n) => !namesOf(traceId).has(n)), [], `trace ${traceId} has every span`);
    assert.deepEqual([...new Set(mine.map((s) => s.service))].sort(), ['tessera-api', 'tessera-worker'], 'API and worker spans share the trace');
    // The worker's spans hang under the API's enqueue span, which hangs under the request.
    const enqueue = mine.find((s) => s.name === 'admission/enqueue')!;
    const server = mine.find((s) => s.name === 'POST request')!;
    assert.equal(enqueue.parentSpanId, server.spanId);
    for (const name of ['queue wait', 'reply']) assert.equal(mine.find((s) => s.name === name)!.parentSpanId, enqueue.spanId, name);
  }
  assert.equal(linkedTraces().size, traces.length, 'every request is linked from a batch');
  for (const batch of batches().filter((b) => (b.links ?? []).some((l) => traces.includes(l.traceId)))) {
    const requests = Number(batch.attributes?.find((a) => a.key === 'tessera.requests')?.value.intValue);
    assert.equal(batch.links!.length, requests, 'a batch links every request it ran');
    assert.ok(spans.some((s) => s.name === 'session.run' && s.parentSpanId === batch.spanId && s.traceId === batch.traceId), 'session.run under its batch');
  }
});
