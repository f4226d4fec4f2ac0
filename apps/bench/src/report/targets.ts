import type { CeilingResult, StepResult, TargetResult } from '../types.js';
import { tierCpuMs } from './floor-md.js';

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function step(
  steps: readonly StepResult[],
  contender: StepResult['contender'],
  model: string,
  concurrency: number,
): StepResult | undefined {
  return steps.find(
    (s) => s.contender === contender && s.model === model && s.concurrency === concurrency && s.inputs === 'unique',
  );
}

/**
 * The service's goals, each computed as a ratio of numbers from the same run (so that the
 * machine's speed cancels out). `pass: null` means the run did not measure what the goal needs.
 */
export function evaluateTargets(ceilings: readonly CeilingResult[], allSteps: readonly StepResult[]): TargetResult[] {
  const out: TargetResult[] = [];
  // Cache hits are reported apart; the targets are about requests that reach the model.
  const steps = allSteps.filter((s) => s.inputs === 'unique');

  {
    const name = 'ocr-rec: full-stack saturation throughput >= 0.8 x ceiling';
    const ceiling = ceilings.find((c) => c.model === 'ocr-rec');
    const full = steps.filter((s) => s.contender === 'full' && s.model === 'ocr-rec');
    if (!ceiling || full.length === 0) {
      out.push({ name, pass: null, detail: 'needs the ceiling and the full stack on ocr-rec' });
    } else {
      const best = full.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
      const ratio = best.itemsPerS / ceiling.best.itemsPerS;
      out.push({
        name,
        pass: ratio >= 0.8,
        detail: `${fmt(best.itemsPerS)} items/s at ${best.concurrency} clients vs ceiling ${fmt(ceiling.best.itemsPerS)} items/s (batch ${ceiling.best.batchSize}): ${fmt(ratio, 2)}x`,
      });
    }
  }

  {
    const name = 'lid176 at 64 clients: full stack >= 0.7 x seed and >= 0.9 x floor throughput, p99 <= 100 ms';
    const full = step(steps, 'full', 'lid176', 64);
    const seed = step(steps, 'seed', 'lid176', 64);
    const floor = step(steps, 'floor', 'lid176', 64);
    if (!full || !seed) {
      out.push({ name, pass: null, detail: 'needs lid176 on the seed and the full stack at 64 clients' });
    } else {
      const ratio = full.reqPerS / seed.reqPerS;
      const ofFloor = floor ? full.reqPerS / floor.reqPerS : undefined;
      const p99 = full.load.latencyMs.p99;
      out.push({
        name,
        pass: ratio >= 0.7 && p99 <= 100 && (ofFloor === undefined || ofFloor >= 0.9),
        detail: `${fmt(full.reqPerS)} vs ${fmt(seed.reqPerS)} req/s: ${fmt(ratio, 2)}x the seed; ${floor ? `${fmt(ofFloor!, 2)}x the floor (${fmt(floor.reqPerS)} req/s, itself ${fmt(floor.reqPerS / seed.reqPerS, 2)}x the seed)` : 'floor not run'}; full-stack p99 ${fmt(p99)} ms`,
      });
    }
  }

  {
    const name = 'lid176 at 64 clients: API CPU per request <= 0.3 ms (all replicas)';
    const full = step(steps, 'full', 'lid176', 64);
    const api = full && tierCpuMs(full, 'API');
    const floor = step(steps, 'floor', 'lid176', 64);
    const floorApi = floor && tierCpuMs(floor, 'API');
    out.push(
      api === null || api === undefined
        ? { name, pass: null, detail: 'needs lid176 on the full stack at 64 clients' }
        : {
            name,
            pass: api <= 0.3,
            detail: `${fmt(api, 3)} ms${floorApi ? ` (the floor's handlers: ${fmt(floorApi, 3)} ms)` : ''}`,
          },
    );
  }

  for (const ceiling of ceilings) {
    // ocr-rec's 180 KiB input crosses every process: it gets 2 ms, the small inputs 1 ms.
    const allowed = ceiling.model === 'ocr-rec' ? 2 : 1;
    const name = `${ceiling.model} at 1 client: full-stack p50 <= session.run (batch 1) + ${allowed} ms`;
    const full = step(steps, 'full', ceiling.model, 1);
    if (!full) {
      out.push({ name, pass: null, detail: 'needs the full stack at concurrency 1' });
      continue;
    }
    const p50 = full.load.latencyMs.p50;
    const limit = ceiling.batch1P50Ms + allowed;
    const floor = step(steps, 'floor', ceiling.model, 1);
    out.push({
      name,
      pass: p50 <= limit,
      detail: `p50 ${fmt(p50, 2)} ms vs ${fmt(ceiling.batch1P50Ms, 2)} + ${allowed} = ${fmt(limit, 2)} ms (overhead ${fmt(p50 - ceiling.batch1P50Ms, 2)} ms${floor ? `; the floor's ${fmt(floor.load.latencyMs.p50 - ceiling.batch1P50Ms, 2)} ms` : ''})`,
    });
  }

  {
    const name = 'API replica RSS <= 150 MB under load';
    const apis = steps
      .filter((s) => s.contender === 'full')
      .flatMap((s) => s.processes.filter((p) => p.name.startsWith('api')).map((p) => ({ p, s })));
    if (apis.length === 0) {
      out.push({ name, pass: null, detail: 'needs the full stack' });
    } else {
      const worst = apis.reduce((a, b) => (b.p.peakRssMb > a.p.peakRssMb ? b : a));
      out.push({
        name,
        pass: worst.p.peakRssMb <= 150,
        detail: `peak ${fmt(worst.p.peakRssMb)} MB (${worst.p.name}, ${worst.s.model} at ${worst.s.concurrency} clients)`,
      });
    }
  }
  return out;
}
