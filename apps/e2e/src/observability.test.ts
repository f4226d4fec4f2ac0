import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import * as grpc from '@grpc/grpc-js';
import { inferenceService } from '@tessera/client/grpc';
import {
  createApiKey,
  findExecutable,
  findRepoRoot,
  freePort,
  ManagedProcess,
  startStack,
  waitForHttp,
  type Stack,
} from '@tessera/topology';
import { authorize, request } from './http.js';
import { dashboardQueries, ruleQueries, scaledObjectQueries, type NamedQuery } from './promql.js';
import { spans, startReceiver } from './otlp-receiver.js';
import { modelRepository } from './repository.js';

/**
 * Observability against one real stack with tracing on:
 * - a real Prometheus with the project's scrape config (its targets pointed at this stack,
 *   scraping every second) and its rule file: with traffic, every PromQL expression of the
 *   dashboard, the alert rules (comparisons in their bool form) and the ScaledObject returns data
 *   through Prometheus's HTTP API;
 * - the spans the API replicas and the worker export (OTEL_EXPORTER_OTLP_ENDPOINT) arrive at a
 *   local OTLP/HTTP receiver.
 */
const root = findRepoRoot();
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-prometheus-'));
let stack: Stack;
let prometheus: ManagedProcess;
let promUrl: string;
let receiver: Server;
let apiKey: string;

/**
 * The worker's GPU metrics come from nvidia-smi; this host has no GPU, so a stand-in on the
 * worker's PATH answers the same query with fixed numbers. Everything after it (parsing, the
 * gauges, the scrape, the queries) is the real path.
 */
function standInNvidiaSmi(): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'nvidia-smi'), '#!/bin/sh\necho "37, 1024, 16384"\n');
  chmodSync(path.join(bin, 'nvidia-smi'), 0o755);
  return bin;
}

/** deploy/prometheus/prometheus.yml with this stack's targets instead of Docker's DNS names. */
function scrapeConfig(targets: Record<string, string[]>): string {
  const config = parseYaml(readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: { job_name: string; dns_sd_configs?: unknown; static_configs?: unknown }[];
  };
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  config.rule_files = config.rule_files.map((f) => path.join(root, 'deploy/prometheus', f));
  for (const job of config.scrape_configs) {
    assert.ok(targets[job.job_name], `the stack has targets for ${job.job_name}`);
    delete job.dns_sd_configs;
    // `namespace` is what the Prometheus Operator adds in Kubernetes; the ScaledObject's query reads it.
    job.static_configs = [{ targets: targets[job.job_name], labels: { namespace: 'tessera' } }];
  }
  return stringifyYaml(config);
}

before(async () => {
  const prometheusBin = findExecutable('prometheus');
  if (!prometheusBin) throw new Error('prometheus is not installed (npm test installs it through apt)');
  const otlpPort = await freePort();
  receiver = await startReceiver(otlpPort);
  stack = await startStack({
    replicas: 2,
    modelRepository: await modelRepository(),
    logDir: path.join(dir, 'logs'),
    env: { LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}` },
    workerEnv: { MODELS: 'affine,token-sum', PATH: `${standInNvidiaSmi()}:${process.env.PATH}` },
  });
  apiKey = (await createApiKey({ redisUrl: stack.redisUrl, name: 'prometheus-e2e', scopes: ['infer'] })).key;
  authorize(apiKey);
  const hostPort = (url: string) => new URL(url).host;
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    scrapeConfig({
      'tessera-api': stack.apiMetricsUrls.map(hostPort),
      'tessera-worker': stack.workerUrls.map(hostPort),
    }),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = await ManagedProcess.start({
    name: 'prometheus',
    command: prometheusBin,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    env: { PATH: process.env.PATH ?? '' },
    logFile: path.join(dir, 'logs', 'prometheus.log'),
  });
  await waitForHttp(`${promUrl}/-/ready`, { timeoutMs: 30_000, intervalMs: 200, abort: prometheus.exitAsError() });
});

after(async () => {
  await prometheus?.stop();
  await stack?.stop();
  receiver?.close();
});

async function query(expr: string): Promise<unknown[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data!.result;
}

/** Inference through the gateway: OIP for two models and /predict, a repeated (cacheable) input. */
async function traffic(i: number): Promise<void> {
  const gw = stack.gatewayUrl;
  const affine = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [i % 3, 2, 3, 4] }] };
  const sums = { inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 3], data: [1, 2, i % 5] }] };
  const answers = await Promise.all([
    request(`${gw}/v2/models/affine/infer`, { body: affine }),
    request(`${gw}/v2/models/token-sum/infer`, { body: sums }),
    request(`${gw}/predict`, { body: { model: 'affine', inputs: [[1, 2, 3, i % 2]] } }),
  ]);
  for (const a of answers) assert.equal(a.status, 200, a.text);
}

test('every expression of the dashboard, the alert rules and the ScaledObject returns data', async () => {
  const queries: NamedQuery[] = [...dashboardQueries(root), ...ruleQueries(root), ...scaledObjectQueries(root)];
  assert.ok(queries.length >= 30, `${queries.length} expressions`);
  // Traffic until every expression has data (rates need two scrapes of each series), up to a minute.
  let empty: NamedQuery[] = queries;
  for (let i = 0; empty.length > 0 && i < 120; i++) {
    await traffic(i);
    if (i % 4 === 3) {
      const results = await Promise.all(empty.map(async (q) => ({ q, n: (await query(q.expr)).length })));
      empty = results.filter((r) => r.n === 0).map((r) => r.q);
    }
    await sleep(250);
  }
  assert.deepEqual(
    empty.map((q) => `${q.source}: ${q.expr}`),
    [],
  );
  // The alerts that should be quiet are: a healthy stack fires nothing but the ones its setup implies.
  const firing = ((await query('ALERTS{alertstate="firing"}')) as { metric: { alertname: string } }[]).map(
    (a) => a.metric.alertname,
  );
  assert.ok(!firing.includes('TesseraTargetDown') && !firing.includes('TesseraRedisUnreachable'), firing.join());
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

test("one request's spans from nginx's traceparent through API and worker share its trace; a batch links all its requests", async () => {
  // Requests sent together, each with its client's own trace, so that batches hold several.
  const traces = Array.from({ length: 6 }, () => hex(16));
  const answers = await Promise.all(
    traces.map((traceId, i) =>
      request(`${stack.gatewayUrl}/v2/models/affine/infer`, {
        headers: { traceparent: `00-${traceId}-${hex(8)}-01`, 'cache-control': 'no-store' },
        body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [i, 1, 2, 3] }] },
      }),
    ),
  );
  for (const a of answers) assert.equal(a.status, 200, a.text);

  const expected = ['POST request', 'validate', 'admission/enqueue', 'queue wait', 'reply'];
  const namesOf = (traceId: string) => new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.name));
  const complete = () =>
    traces.every((t) => expected.every((n) => namesOf(t).has(n))) && linkedTraces().size === traces.length;
  const batches = () => spans.filter((s) => s.name === 'batch');
  const linkedTraces = () =>
    new Set(
      batches()
        .flatMap((b) => (b.links ?? []).map((l) => l.traceId))
        .filter((t) => traces.includes(t)),
    );
  for (let i = 0; i < 100 && !complete(); i++) await sleep(100);

  for (const traceId of traces) {
    const mine = spans.filter((s) => s.traceId === traceId);
    assert.deepEqual(
      expected.filter((n) => !namesOf(traceId).has(n)),
      [],
      `trace ${traceId} has every span`,
    );
    assert.deepEqual(
      [...new Set(mine.map((s) => s.service))].sort(),
      ['tessera-api', 'tessera-worker'],
      'API and worker spans share the trace',
    );
    // The worker's spans hang under the API's enqueue span, which hangs under the request.
    const enqueue = mine.find((s) => s.name === 'admission/enqueue')!;
    const server = mine.find((s) => s.name === 'POST request')!;
    assert.equal(enqueue.parentSpanId, server.spanId);
    for (const name of ['queue wait', 'reply'])
      assert.equal(mine.find((s) => s.name === name)!.parentSpanId, enqueue.spanId, name);
  }
  assert.equal(linkedTraces().size, traces.length, 'every request is linked from a batch');
  for (const batch of batches().filter((b) => (b.links ?? []).some((l) => traces.includes(l.traceId)))) {
    const requests = Number(batch.attributes?.find((a) => a.key === 'tessera.requests')?.value.intValue);
    assert.equal(batch.links!.length, requests, 'a batch links every request it ran');
    assert.ok(
      spans.some((s) => s.name === 'session.run' && s.parentSpanId === batch.spanId && s.traceId === batch.traceId),
      'session.run under its batch',
    );
  }
});

/** One ModelInfer through the gateway's gRPC port with `traceparent` metadata, typed contents. */
function grpcInfer(traceparent: string): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(inferenceService(), 'GRPCInferenceService');
  const client = new Client(stack.grpcAddress, grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, (req: unknown, md: grpc.Metadata, cb: (e: Error | null) => void) => void>;
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${apiKey}`);
  md.set('traceparent', traceparent);
  md.set('cache-control', 'no-store');
  const request = {
    model_name: 'affine',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [7, 1, 2, 3] } }],
  };
  return new Promise((resolve, reject) =>
    client.ModelInfer!(request, md, (err) => (client.close(), err ? reject(err) : resolve())),
  );
}

test('a gRPC call continues the traceparent of its metadata, as REST continues the header', async () => {
  const traceId = hex(16);
  const clientSpan = hex(8);
  await grpcInfer(`00-${traceId}-${clientSpan}-01`);
  const expected = ['gRPC ModelInfer', 'admission/enqueue', 'queue wait', 'reply'];
  const mine = () => spans.filter((s) => s.traceId === traceId);
  for (let i = 0; i < 100 && !expected.every((n) => mine().some((s) => s.name === n)); i++) await sleep(100);
  const named = (name: string) => mine().find((s) => s.name === name);
  assert.deepEqual(
    expected.filter((n) => !named(n)),
    [],
    `the trace has every span: ${mine().map((s) => s.name)}`,
  );
  assert.equal(named('gRPC ModelInfer')!.parentSpanId, clientSpan, "the server span hangs under the client's");
  assert.equal(named('admission/enqueue')!.parentSpanId, named('gRPC ModelInfer')!.spanId);
  assert.equal(named('reply')!.parentSpanId, named('admission/enqueue')!.spanId);
});

test("every metric the API and the worker export is in the README's metrics table", async () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## Deployment'));
  const families = new Set<string>();
  for (const url of [...stack.apiMetricsUrls, ...stack.workerMetricsUrls]) {
    const text = (await request(url)).text;
    for (const [, name] of text.matchAll(/^# TYPE (tessera_\w+) /gm)) families.add(name!);
  }
  // prom-client's default process and Node.js metrics are named as a group under the table.
  const own = [...families].filter((name) => !/^tessera_(process|nodejs)_/.test(name));
  assert.ok(own.length >= 20, `${own.length} metric families: ${own.join(', ')}`);
  assert.deepEqual(
    own.filter((name) => !table.includes(`\`${name}\``) && !table.includes(`\`${name}{`)),
    [],
    'metrics missing from the README',
  );
  assert.match(table, /default process and Node\.js metrics/);
});
