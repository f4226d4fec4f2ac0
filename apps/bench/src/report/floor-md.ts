import type { StepResult } from '../types.js';

const f = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);

/** The tiers CPU is reported by: every API replica together, one worker, Redis, nginx; the seed is one process. */
const TIERS = [
  ['nginx', (n: string) => n === 'nginx'],
  ['API', (n: string) => n.startsWith('api')],
  ['Redis', (n: string) => n === 'redis'],
  ['worker', (n: string) => n.startsWith('worker')],
  ['seed', (n: string) => n === 'seed'],
] as const;

/** Milliseconds of CPU per request in one tier of a step (null when the step has no such process). */
export function tierCpuMs(s: StepResult, tier: (typeof TIERS)[number][0]): number | null {
  const match = TIERS.find(([name]) => name === tier)![1];
  const procs = s.processes.filter((p) => match(p.name));
  if (procs.length === 0 || procs.some((p) => p.cpuSPer1kRequests === null)) return null;
  return procs.reduce((n, p) => n + p.cpuSPer1kRequests!, 0);
}

function totalCpuMs(s: StepResult): number | null {
  if (s.processes.some((p) => p.cpuSPer1kRequests === null)) return null;
  return s.processes.reduce((n, p) => n + p.cpuSPer1kRequests!, 0);
}

/**
 * Where the full stack stands between the floor (the same processes and hops, none of the
 * features) and the seed, step by step: how much of the gap to the seed is the design, and how
 * much is the code. Empty when the run has no floor.
 */
export function floorSection(allSteps: readonly StepResult[]): string[] {
  const steps = allSteps.filter((s) => s.inputs === 'unique');
  const floors = steps.filter((s) => s.contender === 'floor');
  if (floors.length === 0) return [];
  const find = (c: StepResult['contender'], s: StepResult) =>
    steps.find((o) => o.contender === c && o.model === s.model && o.concurrency === s.concurrency);
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? f(a / b) : '–');
  const rows = floors.map((floor) => {
    const full = find('full', floor);
    const seed = find('seed', floor);
    return [
      floor.model,
      floor.concurrency,
      `${f(full?.reqPerS, 0)} / ${f(floor.reqPerS, 0)} / ${f(seed?.reqPerS, 0)}`,
      ratio(full?.reqPerS, floor.reqPerS),
      ratio(floor.reqPerS, seed?.reqPerS),
      `${f(full?.load.latencyMs.p50)} / ${f(floor.load.latencyMs.p50)} / ${f(seed?.load.latencyMs.p50)}`,
    ];
  });
  const cpuRows = floors.flatMap((floor) =>
    (['full', 'floor', 'seed'] as const).flatMap((c) => {
      const s = c === 'floor' ? floor : find(c, floor);
      if (!s) return [];
      return [
        [
          s.model,
          s.concurrency,
          c,
          ...(['nginx', 'API', 'Redis', 'worker', 'seed'] as const).map((t) => f(tierCpuMs(s, t), 3)),
          f(totalCpuMs(s), 3),
        ],
      ];
    }),
  );
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    '## Against the floor',
    '',
    "The floor is the full stack's design with none of its features: nginx, the same number of minimal `node:http` replicas, Redis and a minimal worker (one LPUSH per request, one blocking pop per batch, one PUBLISH per answer, `session.run` on what is waiting). Throughput in req/s and p50 in ms, full / floor / seed:",
    '',
    line(['model', 'clients', 'req/s', 'full / floor', 'floor / seed', 'p50 ms']),
    line(['---', '---', '---', '---', '---', '---']),
    ...rows.map(line),
    '',
    'CPU ms per request by tier (all API replicas together):',
    '',
    line(['model', 'clients', 'contender', 'nginx', 'API', 'Redis', 'worker', 'seed', 'all']),
    line(['---', '---', '---', '---', '---', '---', '---', '---', '---']),
    ...cpuRows.map(line),
    '',
  ];
}
