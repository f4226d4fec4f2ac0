import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { isErrorCode } from '@tessera/contract';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { hostileRequest, type HostileRequest } from './hostile.js';
import { modelRepository } from './repository.js';

/**
 * Hostile input never gets a 5xx: generated requests (hostile.ts) against the real stack, most
 * straight to the replica over keep-alive connections, a share through nginx. Every answer is a
 * 4xx with an `{"error","code"}` body; no process restarts; good requests sent alongside all
 * succeed. `npm test` runs a fixed seed; `npm run fuzz -- <count>` a random one (FUZZ_SEED,
 * FUZZ_COUNT).
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_261_207;
const COUNT = process.env.FUZZ_COUNT ? Number(process.env.FUZZ_COUNT) : 10_000;
const CONCURRENCY = 48;
/** One request in GOOD_EVERY is a valid inference, which must succeed. */
const GOOD_EVERY = 50;

let stack: Stack;
let key: string;
const exits: string[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

before(async () => {
  stack = await startStack({
    replicas: 1,
    workers: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-fuzz-')),
    // A small body limit makes the over-the-limit cases cheap; no rate limit, and a Redis command
    // timeout far above any wait on a loaded machine (its 503 has tests of its own), so that only
    // the input decides each answer.
    apiEnv: {
      DEFAULT_MODEL: 'affine',
      BODY_LIMIT: '256kb',
      RATE_LIMIT: '0',
      REDIS_COMMAND_TIMEOUT_MS: '30000',
      LOG_LEVEL: 'warn',
    },
    workerEnv: { MODELS: 'affine', LOG_LEVEL: 'warn' },
    onProcessExit: (e) => exits.push(`${e.name} exited: ${JSON.stringify(e.info)}`),
  });
  key = (await createApiKey({ redisUrl: stack.redisUrl, name: 'fuzz', scopes: ['infer', 'admin'] })).key;
});

after(async () => {
  agent.destroy();
  await stack?.stop();
});

interface Answer {
  status: number;
  type: string;
  text: string;
}

function send(base: string, req: HostileRequest): Promise<Answer> {
  const url = new URL(base);
  const headers: Record<string, string> = {
    ...req.headers,
    ...(req.anonymous ? {} : { authorization: `Bearer ${key}` }),
  };
  if (req.body) headers['content-length'] = String(req.body.length);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { agent, host: url.hostname, port: url.port, method: req.method, path: req.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

const goodRequest: HostileRequest = {
  kind: 'good',
  method: 'POST',
  path: '/v2/models/affine/infer',
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] })),
};

/**
 * nginx answers a request line it cannot parse (`/predict%`, `/a/../../x`) with its own HTML 400
 * before any configuration applies (an error_page for it fails with "empty URI"); the only
 * answers here that are not the API's JSON.
 */
const nginxUnparsable = (answer: Answer) => answer.status === 400 && answer.text.includes('<center>nginx</center>');

function problem(req: HostileRequest, answer: Answer, viaGateway: boolean): string | undefined {
  const what = `${req.kind} ${req.method} ${req.path.slice(0, 80)} ${JSON.stringify(req.headers).slice(0, 160)} ${req.body?.subarray(0, 120).toString() ?? ''}`;
  if (req.kind === 'good') {
    return answer.status === 200 && answer.text.includes('[3,5,7,9]')
      ? undefined
      : `good request got ${answer.status}: ${answer.text.slice(0, 200)}`;
  }
  if (viaGateway && nginxUnparsable(answer)) return undefined;
  if (answer.status < 400 || answer.status > 499) return `${answer.status} for ${what}: ${answer.text.slice(0, 200)}`;
  let body: { error?: unknown; code?: unknown };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return `${answer.status} without a JSON body (${answer.type}) for ${what}: ${answer.text.slice(0, 200)}`;
  }
  if (typeof body.error !== 'string' || !isErrorCode(body.code))
    return `${answer.status} body is not {"error","code"} for ${what}: ${answer.text.slice(0, 200)}`;
  return undefined;
}

test(`${COUNT} generated hostile requests (seed ${SEED}): 4xx JSON errors, no restart, good requests unharmed`, async (t) => {
  const generating = Date.now();
  const requests = fc.sample(hostileRequest, { seed: SEED, numRuns: COUNT });
  t.diagnostic(`generated in ${Date.now() - generating} ms`);
  const sending = Date.now();
  const pids = stack.processes.map((p) => p.pid);
  const problems: string[] = [];
  const kinds = new Map<string, number>();
  const spent = new Map<string, number>();
  let next = 0;
  let good = 0;
  const worker = async () => {
    for (let i = next++; i < requests.length; i = next++) {
      const req = i % GOOD_EVERY === 0 ? goodRequest : requests[i]!;
      // Most go straight to one replica; every fifth goes through nginx.
      const viaGateway = i % 5 === 4;
      const base = viaGateway ? stack.gatewayUrl : stack.apiUrls[0]!;
      const t0 = Date.now();
      const answer = await send(base, req).catch((err: Error) => ({
        status: 0,
        type: '',
        text: `connection failed: ${err.message}`,
      }));
      if (req.kind === 'good') good++;
      spent.set(req.kind, (spent.get(req.kind) ?? 0) + Date.now() - t0);
      kinds.set(req.kind, (kinds.get(req.kind) ?? 0) + 1);
      const found = problem(req, answer, viaGateway);
      if (found) problems.push(found);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.diagnostic(
    `sent and answered in ${Date.now() - sending} ms: ${JSON.stringify(Object.fromEntries(kinds))} ${JSON.stringify(Object.fromEntries(spent))}`,
  );
  assert.deepEqual(
    problems.slice(0, 15),
    [],
    `${problems.length} of ${requests.length} answers were wrong (seed ${SEED})`,
  );
  assert.ok(good >= COUNT / GOOD_EVERY - 1, `${good} good requests were sent`);
  assert.ok(kinds.size >= 10, `every kind of hostile request was generated: ${JSON.stringify([...kinds])}`);
  assert.deepEqual(exits, [], 'no process exited');
  assert.deepEqual(
    stack.processes.map((p) => p.pid),
    pids,
    'no process was restarted',
  );
  // No request got as far as an unhandled error (a stack trace in a log).
  for (const file of readdirSync(stack.logDir)) {
    const log = readFileSync(path.join(stack.logDir, file), 'utf8');
    assert.ok(
      !log.includes('unhandled error'),
      `${file} logs an unhandled error:\n${log
        .split('\n')
        .find((l) => l.includes('unhandled error'))
        ?.slice(0, 600)}`,
    );
  }
});
