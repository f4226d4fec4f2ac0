import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey, startSentinelGroup, startStack, type SentinelGroup, type Stack } from '@tessera/topology';
import { authorize } from '../http.js';
import { costDim, costReferences, startLoad, type CostReference } from '../load.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { FULL_THROUGHPUT, summarize, type FaultSummary } from './summary.js';

export interface ChaosOptions {
  /** Scenario names to run (all by default). */
  only?: string[];
  /** Load before the fault (the baseline) and after its end, seconds. */
  baselineSeconds: number;
  observeSeconds: number;
  clients: number;
  modelRepository: string;
  outDir: string;
}

/** Recovery to full throughput within this long of the fault's end passes. */
export const RECOVERY_LIMIT_MS = 5000;

const log = (message: string) => process.stderr.write(`[chaos] ${message}\n`);

/** A stack shaped like `npm start` (3 replicas, 1 worker, every process supervised), or the same on Sentinel. */
async function startTarget(
  options: ChaosOptions,
  sentinel: boolean,
): Promise<{ stack: Stack; group?: SentinelGroup; references: CostReference[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-chaos-'));
  const persistence = ['--appendonly', 'yes', '--appendfsync', 'everysec'];
  const group = sentinel
    ? await startSentinelGroup({ dir: path.join(dir, 'sentinel'), redisArgs: persistence })
    : undefined;
  const stack = await startStack({
    replicas: 3,
    workers: 1,
    restart: true,
    modelRepository: options.modelRepository,
    runDir: dir,
    ...(group ? { redisUrl: group.primary.url } : { redisArgs: persistence }),
    // The cache is off so that every request reaches the worker.
    env: { ...group?.env, LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine', RESPONSE_CACHE: 'off' },
    workerEnv: { MODELS: 'affine,cost' },
  });
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'chaos', scopes: ['infer'] })).key);
  return {
    stack,
    ...(group ? { group } : {}),
    references: await costReferences(stack.gatewayUrl, costDim(options.modelRepository)),
  };
}

async function runScenario(
  scenario: Scenario,
  target: { stack: Stack; group?: SentinelGroup; references: CostReference[] },
  options: ChaosOptions,
): Promise<FaultSummary> {
  await target.stack.waitReady(120_000);
  const origin = performance.now();
  const gw = target.stack.gatewayUrl;
  // Clients do what the README tells them: retry a 502/503/504 with the same Idempotency-Key.
  const costClients = Math.max(1, Math.round(options.clients / 4));
  const loads = [
    startLoad(gw, {
      clients: options.clients - costClients,
      model: 'affine',
      retryForMs: 60_000,
      tag: `${scenario.name}-${Date.now()}`,
      origin,
    }),
    startLoad(gw, {
      clients: costClients,
      model: 'cost',
      references: target.references,
      retryForMs: 60_000,
      tag: `${scenario.name}-cost-${Date.now()}`,
      origin,
    }),
  ];
  await sleep(options.baselineSeconds * 1000);
  const start = performance.now() - origin;
  log(`${scenario.name}: ${scenario.fault}`);
  await scenario.inject(target);
  const end = performance.now() - origin;
  log(`${scenario.name}: over after ${Math.round(end - start)} ms (${scenario.endsWhen})`);
  await sleep(options.observeSeconds * 1000);
  const outcomes = (await Promise.all(loads.map((l) => l.stop()))).flat();
  return summarize(scenario.name, outcomes, { start, end, baselineMs: options.baselineSeconds * 1000 });
}

export function passed(s: FaultSummary): boolean {
  return (
    s.lost === 0 && s.wrong === 0 && s.undocumented === 0 && s.recoveryMs !== null && s.recoveryMs <= RECOVERY_LIMIT_MS
  );
}

/** Runs the scenarios (those on the plain stack first, then Sentinel's) and writes the report. */
export async function runChaos(
  options: ChaosOptions,
): Promise<{ summaries: FaultSummary[]; json: string; markdown: string }> {
  const chosen = SCENARIOS.filter((s) => !options.only?.length || options.only.includes(s.name));
  const summaries: FaultSummary[] = [];
  for (const sentinel of [false, true]) {
    const group = chosen.filter((s) => Boolean(s.needsSentinel) === sentinel);
    if (group.length === 0) continue;
    const target = await startTarget(options, sentinel);
    try {
      for (const scenario of group) summaries.push(await runScenario(scenario, target, options));
    } finally {
      await target.stack.stop().catch((err: Error) => log(`stopping the stack: ${err.message}`));
      await target.group?.stop();
    }
  }
  mkdirSync(options.outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = path.join(options.outDir, `chaos-${stamp}.json`);
  const markdown = path.join(options.outDir, `chaos-${stamp}.md`);
  writeFileSync(
    json,
    `${JSON.stringify({ options, scenarios: summaries.map((s) => ({ ...s, passed: passed(s) })) }, null, 2)}\n`,
  );
  writeFileSync(markdown, chaosMarkdown(summaries, options, chosen));
  return { summaries, json, markdown };
}

export function chaosMarkdown(
  summaries: readonly FaultSummary[],
  options: ChaosOptions,
  scenarios: readonly Scenario[],
): string {
  const rows = summaries.map((s) => {
    const scenario = scenarios.find((x) => x.name === s.scenario)!;
    const statuses = Object.entries(s.statuses)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    return `| ${s.scenario} | ${scenario.fault} | ${s.faultMs} | ${s.sent} | ${s.answered} | ${s.wrong} | ${s.lost} | ${statuses} | ${s.undocumented} | ${s.baselinePerSecond} | ${s.recoveryMs ?? 'never'} | ${passed(s) ? 'yes' : '**no**'} |`;
  });
  return [
    '# Chaos run',
    '',
    `${options.clients} clients (¾ affine, ¼ cost) against a supervised stack of 3 API replicas, 1 worker, Redis and nginx; ${options.baselineSeconds} s of load before each fault and ${options.observeSeconds} s after its end. Clients retry 502/503/504 with the same Idempotency-Key for up to 60 s.`,
    '',
    `Recovery: from the fault's end until a whole second again brings ${FULL_THROUGHPUT * 100} % of the baseline's answers per second; passing means 0 lost, 0 wrong, every failure a JSON {"error","code"} and recovery within ${RECOVERY_LIMIT_MS / 1000} s.`,
    '',
    '| scenario | fault | fault ms | sent | answered | wrong | lost | tries by status | non-JSON failures | baseline answers/s | recovery ms | passed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...scenarios.map((s) => `- ${s.name}: the fault ends when ${s.endsWhen}.`),
    '',
  ].join('\n');
}
