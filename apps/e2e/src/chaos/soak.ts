import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey, redisCommand, startStack, type Stack } from '@tessera/topology';
import { authorize } from '../http.js';
import { costDim, costReferences, startLoad } from '../load.js';

export interface SoakOptions {
  minutes: number;
  clients: number;
  /** Idle time after the load before the last sample, seconds (finished jobs are kept 60 s). */
  afterSeconds: number;
  sampleSeconds: number;
  modelRepository: string;
  outDir: string;
}

export interface SoakSample {
  phase: 'before' | 'during' | 'after';
  /** Seconds since the soak started. */
  at: number;
  /** Resident memory of each service (its whole process group), MiB. */
  rssMb: Record<string, number>;
  redisUsedMb: number;
  redisKeys: number;
  /** Keys by kind: the second part of their name (cache, idem, infer.<model>, reply, …). */
  keysByKind: Record<string, number>;
  /** Requests answered so far, and answered wrongly. */
  answered: number;
  wrong: number;
}

const log = (message: string) => process.stderr.write(`[soak] ${message}\n`);
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** VmRSS of every process in the process group led by `pid`, KiB. */
function groupRssKb(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      total += Number(rss?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

// KEYS is fine on the soak's own Redis; it would not be on a production one.
const COUNT_BY_KIND = `local n = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
  local kind = string.match(k, '^[^:]*:([^:]*)') or k
  n[kind] = (n[kind] or 0) + 1
end
local out = {}
for kind, count in pairs(n) do table.insert(out, kind) table.insert(out, count) end
return out`;

async function redisFigures(
  stack: Stack,
): Promise<{ usedMb: number; keys: number; keysByKind: Record<string, number> }> {
  const url = new URL(stack.redisUrl);
  const auth = url.password
    ? { user: decodeURIComponent(url.username) || 'default', password: decodeURIComponent(url.password) }
    : {};
  const info = String(await redisCommand(Number(url.port), url.hostname, ['INFO', 'memory'], auth));
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  const keys = Number(await redisCommand(Number(url.port), url.hostname, ['DBSIZE'], auth));
  const flat = (await redisCommand(Number(url.port), url.hostname, ['EVAL', COUNT_BY_KIND, '0'], {
    ...auth,
    timeoutMs: 5000,
  })) as (string | number)[];
  const keysByKind: Record<string, number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) keysByKind[String(flat[i])] = Number(flat[i + 1]);
  return { usedMb: mb(used / 1024), keys, keysByKind };
}

/** `npm run soak`: mixed load with unique inputs for N minutes on a stack shaped like `npm start`, sampling memory throughout. */
export async function runSoak(
  options: SoakOptions,
): Promise<{ samples: SoakSample[]; json: string; markdown: string }> {
  const stack = await startStack({
    replicas: 3,
    workers: 1,
    restart: true,
    modelRepository: options.modelRepository,
    runDir: mkdtempSync(path.join(tmpdir(), 'tessera-soak-')),
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine' },
    workerEnv: { MODELS: 'affine,cost' },
  });
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  let counted = { answered: 0, wrong: 0 };
  const sample = async (phase: SoakSample['phase']) => {
    const rssMb = Object.fromEntries(stack.processes.map((p) => [p.name, mb(groupRssKb(p.pid))]));
    const redis = await redisFigures(stack);
    samples.push({
      phase,
      at: Math.round((performance.now() - t0) / 1000),
      rssMb,
      redisUsedMb: redis.usedMb,
      redisKeys: redis.keys,
      keysByKind: redis.keysByKind,
      ...counted,
    });
    log(`${phase} +${samples.at(-1)!.at}s redis ${redis.usedMb} MiB ${redis.keys} keys, answered ${counted.answered}`);
  };
  try {
    authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'soak', scopes: ['infer'] })).key);
    const references = await costReferences(stack.gatewayUrl, costDim(options.modelRepository));
    await sample('before');
    const origin = performance.now();
    const costClients = Math.max(1, Math.round(options.clients / 4));
    const loads = [
      startLoad(stack.gatewayUrl, {
        clients: options.clients - costClients,
        model: 'affine',
        tag: `soak-${Date.now()}`,
        origin,
      }),
      startLoad(stack.gatewayUrl, {
        clients: costClients,
        model: 'cost',
        references,
        tag: `soak-cost-${Date.now()}`,
        origin,
      }),
    ];
    const count = () => {
      const all = loads.flatMap((l) => l.outcomes);
      counted = {
        answered: all.filter((o) => o.status === 200 && o.correct).length,
        wrong: all.filter((o) => o.status === 200 && !o.correct).length,
      };
    };
    while (performance.now() - origin < options.minutes * 60_000) {
      await sleep(options.sampleSeconds * 1000);
      count();
      await sample('during');
    }
    const outcomes = (await Promise.all(loads.map((l) => l.stop()))).flat();
    count();
    const failed = outcomes.filter((o) => o.status !== 200).length;
    for (let waited = 0; waited < options.afterSeconds; waited += options.sampleSeconds) {
      await sleep(options.sampleSeconds * 1000);
      await sample('after');
    }
    return write(samples, options, { sent: outcomes.length, failed });
  } finally {
    await stack.stop().catch((err: Error) => log(`stopping the stack: ${err.message}`));
  }
}

function write(
  samples: SoakSample[],
  options: SoakOptions,
  totals: { sent: number; failed: number },
): { samples: SoakSample[]; json: string; markdown: string } {
  mkdirSync(options.outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = path.join(options.outDir, `soak-${stamp}.json`);
  const markdown = path.join(options.outDir, `soak-${stamp}.md`);
  writeFileSync(json, `${JSON.stringify({ options, totals, samples }, null, 2)}\n`);
  const names = Object.keys(samples[0]?.rssMb ?? {});
  const kinds = (s: SoakSample) =>
    Object.entries(s.keysByKind)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const rows = samples.map(
    (s) =>
      `| ${s.phase} | ${s.at} | ${names.map((n) => s.rssMb[n] ?? '').join(' | ')} | ${s.redisUsedMb} | ${s.redisKeys} (${kinds(s)}) | ${s.answered} | ${s.wrong} |`,
  );
  writeFileSync(
    markdown,
    [
      '# Soak run',
      '',
      `${options.clients} clients (¾ affine with unique inputs, ¼ cost) for ${options.minutes} min against 3 API replicas, 1 worker, Redis and nginx, then ${options.afterSeconds} s idle. ${totals.sent} requests, ${totals.failed} not answered 200.`,
      '',
      `| phase | s | ${names.map((n) => `${n} RSS MiB`).join(' | ')} | Redis used MiB | Redis keys | answered | wrong |`,
      `| --- | --- | ${names.map(() => '---').join(' | ')} | --- | --- | --- | --- |`,
      ...rows,
      '',
    ].join('\n'),
  );
  return { samples, json, markdown };
}
