import type { BenchReport } from '../types.js';

/**
 * A self-contained SVG: per model, items/s and p99 latency against clients for the seed and the
 * full stack, with the in-process ceiling as a dashed line on the throughput panel. Clients sit
 * at even steps (the sweep is geometric); p99 is on a log scale since it spans milliseconds to
 * seconds (and throughput too when the ceiling is far above the rest).
 */

const PANEL_W = 440;
const PANEL_H = 250;
const PAD = { left: 62, right: 16, top: 34, bottom: 42 };
const ROW_H = PANEL_H + 40;
const COLORS = { seed: '#d9822b', full: '#2b6cd9', ceiling: '#2f9e44' } as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  if (v >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(2)}`;
}

interface Series {
  key: keyof typeof COLORS;
  points: { x: number; y: number }[];
}

function panel(
  x0: number,
  y0: number,
  title: string,
  xs: number[],
  series: Series[],
  opts: { log: boolean; hline?: { y: number; label: string } },
): string {
  const w = PANEL_W - PAD.left - PAD.right;
  const h = PANEL_H - PAD.top - PAD.bottom;
  const values = series
    .flatMap((s) => s.points.map((p) => p.y))
    .concat(opts.hline ? [opts.hline.y] : [])
    .filter((v) => Number.isFinite(v) && v > 0);
  const out: string[] = [`<g transform="translate(${x0},${y0})">`];
  out.push(`<text x="${PAD.left}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`);
  const xAt = (i: number) => PAD.left + (xs.length === 1 ? w / 2 : (i * w) / (xs.length - 1));
  let yAt: (v: number) => number;
  let ticks: number[];
  if (opts.log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...(values.length ? values : [1]))));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...(values.length ? values : [10])) * 1.0001));
    const span = Math.max(1e-9, Math.log10(hi) - Math.log10(lo));
    yAt = (v) => PAD.top + h - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * h;
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    const max = niceMax(Math.max(...(values.length ? values : [1])) * 1.05);
    yAt = (v) => PAD.top + h - (v / max) * h;
    ticks = [0, 1, 2, 3, 4].map((i) => (max * i) / 4);
  }
  for (const t of ticks) {
    const y = yAt(t).toFixed(1);
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${PAD.left - 6}" y="${y}" font-size="10" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`,
    );
  }
  out.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + h}" stroke="#333"/>`);
  out.push(`<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${PAD.top + h}" y2="${PAD.top + h}" stroke="#333"/>`);
  xs.forEach((x, i) =>
    out.push(`<text x="${xAt(i).toFixed(1)}" y="${PAD.top + h + 16}" font-size="10" text-anchor="middle">${x}</text>`),
  );
  out.push(`<text x="${PAD.left + w / 2}" y="${PAD.top + h + 34}" font-size="11" text-anchor="middle">clients</text>`);
  if (opts.hline && Number.isFinite(opts.hline.y)) {
    const y = yAt(opts.hline.y).toFixed(1);
    out.push(
      `<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${y}" y2="${y}" stroke="${COLORS.ceiling}" stroke-dasharray="6 4" stroke-width="2"/>`,
    );
    out.push(
      `<text x="${PAD.left + w - 4}" y="${Number(y) - 5}" font-size="10" text-anchor="end" fill="${COLORS.ceiling}">${esc(opts.hline.label)}</text>`,
    );
  }
  for (const s of series) {
    const pts = s.points
      .filter((p) => Number.isFinite(p.y) && (!opts.log || p.y > 0))
      .map((p) => `${xAt(xs.indexOf(p.x)).toFixed(1)},${yAt(p.y).toFixed(1)}`);
    if (pts.length > 1)
      out.push(`<polyline fill="none" stroke="${COLORS[s.key]}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${COLORS[s.key]}"/>`);
    }
  }
  out.push('</g>');
  return out.join('\n');
}

export function svgChart(report: BenchReport): string {
  const models = [...new Set([...report.steps.map((s) => s.model), ...report.ceilings.map((c) => c.model)])];
  const width = PANEL_W * 2 + 20;
  const height = 50 + Math.max(1, models.length) * ROW_H;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  const legend: [keyof typeof COLORS, string][] = [
    ['seed', 'seed (Express, no queue)'],
    ['full', 'full stack'],
    ['ceiling', 'ceiling (in-process, best batch)'],
  ];
  legend.forEach(([key, label], i) => {
    const x = 20 + i * 250;
    parts.push(
      `<line x1="${x}" x2="${x + 24}" y1="20" y2="20" stroke="${COLORS[key]}" stroke-width="3"${key === 'ceiling' ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(`<text x="${x + 30}" y="24" font-size="12">${esc(label)}</text>`);
  });
  models.forEach((model, row) => {
    const steps = report.steps.filter((s) => s.model === model && s.inputs === 'unique');
    const xs = [...new Set(steps.map((s) => s.concurrency))].sort((a, b) => a - b);
    const series = (pick: (s: (typeof steps)[number]) => number): Series[] =>
      (['seed', 'full'] as const).map((key) => ({
        key,
        points: steps.filter((s) => s.contender === key).map((s) => ({ x: s.concurrency, y: pick(s) })),
      }));
    const ceiling = report.ceilings.find((c) => c.model === model);
    const y0 = 40 + row * ROW_H;
    const hline = ceiling
      ? {
          y: ceiling.best.itemsPerS,
          label: `ceiling ${ceiling.best.itemsPerS.toFixed(0)} items/s (batch ${ceiling.best.batchSize})`,
        }
      : undefined;
    // A ceiling far above the HTTP contenders would flatten them on a linear axis.
    const ys = [...steps.map((s) => s.itemsPerS), ...(hline ? [hline.y] : [])].filter((v) => v > 0);
    const log = ys.length > 1 && Math.max(...ys) / Math.min(...ys) > 20;
    parts.push(
      panel(
        0,
        y0,
        `${model}: throughput (items/s${log ? ', log' : ''})`,
        xs.length ? xs : [1],
        series((s) => s.itemsPerS),
        { log, ...(hline ? { hline } : {}) },
      ),
    );
    parts.push(
      panel(
        PANEL_W + 20,
        y0,
        `${model}: p99 latency (ms, log)`,
        xs.length ? xs : [1],
        series((s) => s.load.latencyMs.p99),
        { log: true },
      ),
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
