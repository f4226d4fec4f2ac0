import type { BenchReport, CeilingResult, ScalingCheck, StepResult } from '../types.js';
import { costsOf, predictThroughput, type Layout } from './scaling.js';

export type { ScalingCheck };

export interface Calibration {
  source: string;
  steps: StepResult[];
  ceilings: CeilingResult[];
}

const isFullStep = (s: StepResult) => s.contender === 'full' && s.inputs === 'unique';

/**
 * Predicts every full-stack step of a run from the calibration's costs for the same model and
 * clients (or the step's own, when there is no calibration or it lacks that step).
 */
export function scalingChecks(
  run: { steps: StepResult[]; ceilings: CeilingResult[] },
  layout: Omit<Layout, 'itemsPerRequest'>,
  calibration?: Calibration,
): ScalingCheck[] {
  return run.steps.filter(isFullStep).map((step) => {
    const reference = calibration?.steps.find(
      (s) => isFullStep(s) && s.model === step.model && s.concurrency === step.concurrency,
    );
    const from = reference ? calibration! : { source: 'this run', ...run };
    const costs = costsOf(
      reference ?? step,
      from.ceilings.find((c) => c.model === step.model),
    );
    const predicted = predictThroughput(costs, { ...layout, itemsPerRequest: step.itemsPerRequest });
    const coresUsed =
      (step.processes.reduce((sum, p) => sum + p.cpuS, 0) + (layout.loadgenShares ? step.load.loadgenCpuS : 0)) /
      step.load.durationS;
    const atUsed = predictThroughput(costs, { ...layout, cores: coresUsed, itemsPerRequest: step.itemsPerRequest });
    const error = (reqPerS: number) =>
      step.reqPerS > 0 ? ((reqPerS - step.reqPerS) / step.reqPerS) * 100 : Number.NaN;
    return {
      model: step.model,
      concurrency: step.concurrency,
      layout: { ...layout, itemsPerRequest: step.itemsPerRequest },
      costsFrom: from.source,
      costs,
      predicted,
      measuredReqPerS: step.reqPerS,
      errorPct: error(predicted.reqPerS),
      coresUsed,
      atCoresUsed: { reqPerS: atUsed.reqPerS, bound: atUsed.bound, errorPct: error(atUsed.reqPerS) },
    };
  });
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');

/** The report's section: each check's layout, costs, prediction, measurement and error. */
export function scalingLines(report: Pick<BenchReport, 'scaling'>): string[] {
  const checks = report.scaling ?? [];
  if (checks.length === 0) return [];
  const rows = checks.map((c) => {
    const k = c.costs;
    return `| ${c.model} | ${c.concurrency} | ${c.layout.cores} | ${c.layout.replicas} | ${c.layout.loadgenShares ? 'shares' : 'apart'} | ${f(k.api, 3)} / ${f(k.redis, 3)} / ${f(k.nginx, 3)} / ${f(k.workerPath, 3)} / ${f(k.compute, 3)} / ${f(k.loadgen, 3)} | ${c.costsFrom} | ${f(c.predicted.reqPerS)} (${c.predicted.bound}) | ${f(c.measuredReqPerS)} | ${f(c.errorPct)} % | ${f(c.coresUsed, 2)} | ${f(c.atCoresUsed.reqPerS)} (${c.atCoresUsed.bound}), ${f(c.atCoresUsed.errorPct)} % |`;
  });
  return [
    '## Scaling model',
    '',
    'Predicted full-stack throughput (docs/benchmarks.md, "Scaling on paper") from CPU per request per process, next to the measurement. Costs are CPU ms per request: API replicas together / Redis / nginx / worker outside session.run / session.run / load generator. "Cores used" is the CPU the services (and a load generator sharing their cores) got during the step: below the layout\'s cores, other work on the machine took the rest.',
    '',
    '| model | clients | cores | API replicas | load generator | costs ms | costs from | predicted req/s (bound) | measured req/s | error | cores used | predicted at the cores used, error |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}
