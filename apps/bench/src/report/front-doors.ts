import type { BenchReport, StepResult } from '../types.js';

/** The full stack's front doors in the order the report lists them, with their names there. */
const DOORS = [
  ['grpc', 'gRPC'],
  ['full', 'REST binary'],
  ['json', 'REST JSON'],
] as const;

const f = (n: number | null | undefined, d = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d);
const signed = (n: number, d = 2) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(d)}` : '–');

export interface DoorRow {
  model: string;
  concurrency: number;
  door: string;
  reqPerS: number;
  /** Throughput over REST binary's at the same step. */
  vsBinary: number | null;
  p50: number;
  p99: number;
  /** Milliseconds added over REST binary's p50 and p99. */
  p50VsBinary: number | null;
  p99VsBinary: number | null;
  /** p50 less session.run at batch 1 (the ceiling's): what the serving path adds per request. */
  p50OverRun: number | null;
}

/** gRPC, REST binary and REST JSON side by side, for each model and clients where at least two ran. */
export function frontDoorRows(report: Pick<BenchReport, 'steps' | 'ceilings'>): DoorRow[] {
  const unique = report.steps.filter((s) => s.inputs === 'unique');
  const find = (door: string, model: string, c: number): StepResult | undefined =>
    unique.find((s) => s.contender === door && s.model === model && s.concurrency === c);
  const keys = [...new Set(unique.map((s) => `${s.model}\u0000${s.concurrency}`))];
  return keys.flatMap((key) => {
    const [model, c] = key.split('\u0000') as [string, string];
    const concurrency = Number(c);
    const present = DOORS.filter(([door]) => find(door, model, concurrency));
    if (present.length < 2) return [];
    const binary = find('full', model, concurrency);
    const run = report.ceilings.find((x) => x.model === model)?.batch1P50Ms;
    return present.map(([door, name]) => {
      const s = find(door, model, concurrency)!;
      const l = s.load.latencyMs;
      const b = binary?.load.latencyMs;
      return {
        model,
        concurrency,
        door: name,
        reqPerS: s.reqPerS,
        vsBinary: binary && binary.reqPerS > 0 ? s.reqPerS / binary.reqPerS : null,
        p50: l.p50,
        p99: l.p99,
        p50VsBinary: b ? l.p50 - b.p50 : null,
        p99VsBinary: b ? l.p99 - b.p99 : null,
        p50OverRun: run !== undefined ? l.p50 - run : null,
      };
    });
  });
}

export function frontDoorLines(report: Pick<BenchReport, 'steps' | 'ceilings'>): string[] {
  const rows = frontDoorRows(report);
  if (rows.length === 0) return [];
  return [
    '## Front doors: gRPC, REST binary, REST JSON',
    '',
    'The same full stack, the same requests and clients, through nginx: gRPC ModelInfer (raw contents, the SDK client, one HTTP/2 connection per client), REST with the binary tensor extension, and REST with JSON tensors. Differences are against REST binary at the same step; "over session.run" is p50 less the ceiling\'s batch-1 session.run.',
    '',
    '| model | clients | front door | req/s | × REST binary | p50 ms | p99 ms | p50 vs binary ms | p99 vs binary ms | p50 over session.run ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.concurrency} | ${r.door} | ${f(r.reqPerS)} | ${f(r.vsBinary, 2)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.p50VsBinary === null ? '–' : signed(r.p50VsBinary)} | ${r.p99VsBinary === null ? '–' : signed(r.p99VsBinary)} | ${f(r.p50OverRun, 2)} |`,
    ),
    '',
  ];
}
