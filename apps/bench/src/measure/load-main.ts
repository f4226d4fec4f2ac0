/**
 * The load generator, run in its own process so that its CPU is not charged to any contender:
 * autocannon with N closed-loop connections (each sends its next request when the previous
 * answer arrives). Every 2xx response time is kept at full resolution; autocannon's own
 * histogram rounds to whole milliseconds, too coarse for sub-millisecond models.
 */
import autocannon from 'autocannon';
import { serveChildJob } from './child-job.js';
import { summarize } from './latency.js';
import { binaryBodyMaker, bodyMaker, type BinaryTemplate, type Vary } from './vary.js';
import type { LoadResult } from '../types.js';

export interface LoadJob {
  url: string;
  /** Sent as is by every request, unless `template` is given. */
  body: string;
  /** Each request's body made from this template (see vary.ts): every request differs. */
  template?: { text: string; vary: Vary; start: number };
  /** Or from this binary-extension template (Inference-Header-Content-Length bodies). */
  binaryTemplate?: { template: BinaryTemplate; vary: Vary; start: number };
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
  /** Seconds before a request counts as timed out. */
  timeoutS: number;
}

export function runLoad(job: LoadJob): Promise<LoadResult> {
  const cpuStart = process.cpuUsage();
  const latencies: number[] = [];
  const next: (() => string | Buffer) | undefined = job.binaryTemplate
    ? binaryBodyMaker(job.binaryTemplate.template, job.binaryTemplate.vary, job.binaryTemplate.start)
    : job.template
      ? bodyMaker(job.template.text, job.template.vary, job.template.start)
      : undefined;
  const binaryHeaders = job.binaryTemplate
    ? {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(Buffer.byteLength(job.binaryTemplate.template.header)),
      }
    : {};
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...job.headers, ...binaryHeaders },
        body: job.body,
        ...(next
          ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: next() as string }) }] }
          : {}),
        connections: job.connections,
        duration: job.durationS,
        timeout: job.timeoutS,
        pipelining: 1,
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        const cpu = process.cpuUsage(cpuStart);
        const statusCodes: Record<string, number> = {};
        for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
        const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
        resolve({
          connections: job.connections,
          durationS: result.duration,
          completed,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          latencyMs: summarize(latencies),
          loadgenCpuS: (cpu.user + cpu.system) / 1e6,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

// Child-process entry: one job in, one result out, over the IPC channel.
serveChildJob(runLoad);
