/**
 * Prints the scaling model's curve for an API node in front of N GPU workers, from the CPU costs
 * of a bench run (its full-stack step of the model at the most clients):
 *
 *   node apps/bench/dist/report/scaling-curve.js <report.json> <model> <GPU items/s> [cores=16]
 *
 * The GPU throughput is an input, not a measurement: say where it comes from.
 */
import { readFileSync } from 'node:fs';
import type { BenchReport } from '../types.js';
import { costsOf, gpuCurve } from './scaling.js';

const [file, model, gpu, cores = '16'] = process.argv.slice(2);
if (!file || !model || !gpu) {
  console.error('usage: scaling-curve.js <report.json> <model> <GPU items/s> [cores]');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const steps = report.steps.filter((s) => s.contender === 'full' && s.inputs === 'unique' && s.model === model);
const step = steps.sort((a, b) => b.concurrency - a.concurrency)[0];
if (!step) {
  console.error(`${file} has no full-stack step of ${model}`);
  process.exit(1);
}
const costs = costsOf(
  step,
  report.ceilings.find((c) => c.model === model),
);
const n = Number(cores);
console.log(`costs (CPU ms per request, ${model} at ${step.concurrency} clients): ${JSON.stringify(costs)}`);
console.log('| GPU workers | predicted req/s | bound | cores | API | Redis | nginx | workers | devices |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const curve = gpuCurve(
  costs,
  { cores: n, gpuItemsPerS: Number(gpu), itemsPerRequest: step.itemsPerRequest, nginxWorkers: n },
  [1, 2, 4, 8],
);
for (const p of curve) {
  const b = p.bounds;
  const r = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    `| ${p.workers} | ${r(p.reqPerS)} | ${p.bound} | ${r(b.cores)} | ${r(b.api)} | ${r(b.redis)} | ${r(b.nginx)} | ${r(b.worker)} | ${r(b.device)} |`,
  );
}
