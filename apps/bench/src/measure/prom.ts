import type { BatchDistribution } from '../types.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (samples only; comments and types are skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

function pick(samples: readonly Sample[], name: string, model: string): Sample[] {
  return samples.filter((s) => s.name === name && s.labels.model === model);
}

function one(samples: readonly Sample[], name: string, model: string): number | null {
  const found = pick(samples, name, model);
  return found.length > 0 ? found.reduce((n, s) => n + s.value, 0) : null;
}

/**
 * The batches a model ran between two scrapes of the worker's /metrics: the deltas of the
 * `tessera_worker_batch_size` histogram, turned from cumulative buckets into counts per bucket.
 */
export function batchDistribution(
  before: readonly Sample[],
  after: readonly Sample[],
  model: string,
): BatchDistribution {
  const name = 'tessera_worker_batch_size';
  const cumulative = (samples: readonly Sample[]) =>
    new Map(pick(samples, `${name}_bucket`, model).map((s) => [s.labels.le!, s.value]));
  const b0 = cumulative(before);
  const b1 = cumulative(after);
  const bounds = [...b1.keys()].sort((a, b) => (a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b)));
  const buckets: Record<string, number> = {};
  let below = 0;
  for (const le of bounds) {
    const total = (b1.get(le) ?? 0) - (b0.get(le) ?? 0);
    const count = total - below;
    below = total;
    if (count > 0) buckets[le] = count;
  }
  const batches = (one(after, `${name}_count`, model) ?? 0) - (one(before, `${name}_count`, model) ?? 0);
  const items = (one(after, `${name}_sum`, model) ?? 0) - (one(before, `${name}_sum`, model) ?? 0);
  return {
    buckets,
    batches,
    items,
    meanSize: batches > 0 ? items / batches : null,
    capAtEnd: one(after, 'tessera_worker_batch_cap', model),
    delaySecondsAtEnd: one(after, 'tessera_worker_batch_delay_seconds', model),
  };
}

/** Sum of a counter over every label set matching `labels`. */
export function counterSum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
