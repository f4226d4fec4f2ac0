import type { SchedulerEvents } from '@tessera/batcher';
import type { ModelSpec } from '@tessera/contract';
import type { InferenceStatistics } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import type { WorkerMetrics } from './metrics.js';
import type { WorkerTracing } from './tracing.js';

export interface SchedulerEventDeps {
  metrics: WorkerMetrics;
  tracing: WorkerTracing;
  logger: Logger;
  statistics: InferenceStatistics;
  /** The cap tuner's state, logged with each cap change. */
  describeCap: (model: ModelSpec) => Record<string, unknown>;
}

/** What the worker does on the scheduler's events: metrics, traces, statistics and log lines. */
export function schedulerEvents(deps: SchedulerEventDeps): SchedulerEvents {
  const { metrics, logger } = deps;
  return {
    onBatch: (e) => {
      deps.tracing.batch(e);
      metrics.batchSize.observe({ model: e.model.name }, e.size);
      metrics.batchCompute.observe({ model: e.model.name, provider: e.provider }, e.computeMs / 1000);
      metrics.batchDelay.set({ model: e.model.name }, e.delayMs / 1000);
      deps.statistics.recordExecution(e.model.name, e.model.version, e.size, e.computeMs).catch(() => {
        // Statistics are best effort: a lost update only leaves a count behind.
      });
    },
    onOom: (e) => {
      metrics.oomEvents.inc({ model: e.model.name });
      logger.warn(
        { model: e.model.name, from: e.from, to: e.to },
        'out of memory: session recreated, batch cap halved, retrying the same items',
      );
    },
    onCapChange: (e) => {
      metrics.batchCap.set({ model: e.model.name }, e.cap);
      // Tries of neighbouring caps are routine (a few batches each); decisions are worth a line.
      const level = e.reason === 'probe' ? 'debug' : 'info';
      logger[level](
        { model: e.model.name, cap: e.cap, from: e.from, reason: e.reason, tuner: deps.describeCap(e.model) },
        'batch cap changed',
      );
    },
  };
}
