import { CONTENDER_LABELS, type BenchReport, type StepResult } from '../types.js';
import { floorSection } from './floor-md.js';

const f = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)];
}

function batches(s: StepResult): string {
  if (!s.batches) return 'n/a (1 request = 1 run)';
  const b = s.batches;
  if (b.batches === 0) return 'none';
  const dist = Object.entries(b.buckets)
    .map(([le, n]) => `≤${le}:${n}`)
    .join(' ');
  return `mean ${f(b.meanSize)} (${b.batches} batches; ${dist}); cap ${f(b.capAtEnd, 0)}, delay ${f(b.delaySecondsAtEnd === null ? null : b.delaySecondsAtEnd * 1000, 2)} ms`;
}

function errors(s: StepResult): string {
  const codes = Object.entries(s.load.statusCodes)
    .filter(([c]) => !c.startsWith('2'))
    .map(([c, n]) => `${c}×${n}`);
  const total = s.load.non2xx + s.load.errors;
  return total === 0
    ? '0'
    : `${total} (${[...codes, s.load.errors ? `socket ${s.load.errors}` : ''].filter(Boolean).join(', ')})`;
}

export function markdownReport(report: BenchReport): string {
  const lines: string[] = [];
  const o = report.options;
  lines.push('# Tessera benchmark', '');
  lines.push(
    `${report.startedAt} → ${report.finishedAt} on ${report.host.cpus} × ${report.host.cpuModel}, ${f(report.host.memoryGb, 0)} GiB, Node ${report.host.node}.`,
  );
  lines.push(
    `Models ${o.models.join(', ')}; clients ${o.concurrency.join(', ')}; ${o.durationS} s per step after ${o.warmupS} s of warm-up; ONNX Runtime intra-op threads ${o.intraOpThreads} everywhere.`,
    '',
  );
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.notes.length > 0) lines.push('');

  lines.push('## Targets', '');
  lines.push(
    ...table(
      ['target', 'result', 'detail'],
      report.targets.map((t) => [t.name, t.pass === null ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL', t.detail]),
    ),
    '',
  );

  if (report.ceilings.length > 0) {
    lines.push(`## Ceiling: ${CONTENDER_LABELS.ceiling}`, '');
    const rows = report.ceilings.flatMap((c) =>
      c.points.map((p) => [
        c.model,
        p.batchSize,
        f(p.itemsPerS),
        f(p.p50Ms, 2),
        f(p.meanMs, 2),
        p.runs,
        p.batchSize === c.best.batchSize ? 'best' : '',
      ]),
    );
    lines.push(...table(['model', 'batch', 'items/s', 'run p50 ms', 'run mean ms', 'runs', ''], rows), '');
  }

  if (report.steps.length > 0) {
    lines.push('## Throughput and latency', '');
    const rows = report.steps.map((s) => [
      s.model,
      s.inputs === 'repeated' ? `${s.contender} (cache hits)` : s.contender,
      s.concurrency,
      f(s.reqPerS),
      f(s.itemsPerS),
      f(s.load.latencyMs.p50, 2),
      f(s.load.latencyMs.p90, 2),
      f(s.load.latencyMs.p99, 2),
      errors(s),
      batches(s),
    ]);
    lines.push(
      ...table(
        ['model', 'contender', 'clients', 'req/s', 'items/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'batches'],
        rows,
      ),
      '',
    );
    if (report.steps.some((s) => s.inputs === 'repeated')) {
      lines.push(
        'Every request differs (two input values change per request), so the response cache misses, except in the rows marked "cache hits", where every client sends the same request; the targets and the chart use the other rows only.',
        '',
      );
    }

    lines.push(...floorSection(report.steps));
    lines.push(
      '## CPU and memory per process',
      '',
      'CPU seconds per 1,000 requests (user + system, all threads; nginx counts its master and workers) and peak resident memory sampled during the step.',
      '',
    );
    const resRows = report.steps.flatMap((s) =>
      s.processes.map((p) => [
        s.model,
        s.inputs === 'repeated' ? `${s.contender} (cache hits)` : s.contender,
        s.concurrency,
        p.name,
        f(p.cpuS, 2),
        f(p.cpuSPer1kRequests, 3),
        f(p.peakRssMb, 0),
      ]),
    );
    lines.push(
      ...table(['model', 'contender', 'clients', 'process', 'CPU s', 'CPU s / 1k req', 'peak RSS MB'], resRows),
      '',
    );
    const gen = report.steps.map((s) => s.load.loadgenCpuS).reduce((a, b) => a + b, 0);
    lines.push(
      `The load generator (autocannon, its own process) used ${f(gen, 1)} CPU s in all measured steps; it is not charged to any contender but shares the machine.`,
      '',
    );
  }
  lines.push('![throughput and p99 latency against clients](chart.svg)', '');
  return lines.join('\n');
}
