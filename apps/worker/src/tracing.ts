import type { BatchEvent } from '@tessera/batcher';
import type { Tracing } from '@tessera/telemetry';

/**
 * The worker's spans of a request's trace: its queue wait and its reply, children of the API's
 * enqueue span (the job's traceparent); and one span per batch, in a trace of its own and linked
 * to every request it ran, with its `session.run` below it.
 */
export class WorkerTracing {
  /** traceparent of each request handed to the scheduler and not yet answered. */
  private readonly parents = new Map<string, string>();

  constructor(
    private readonly tracing: Tracing,
    private readonly workerId: string,
  ) {}

  received(requestId: string, traceparent: string | undefined): void {
    if (this.tracing.enabled && traceparent) this.parents.set(requestId, traceparent);
  }

  /** The request waited from `enqueuedAt` until its batch began (both epoch ms). */
  queueWait(requestId: string, model: string, enqueuedAt: number, batchStartedAt: number): void {
    const parent = this.parents.get(requestId);
    if (!parent) return;
    this.tracing
      .start('queue wait', {
        parent,
        startMs: enqueuedAt,
        attributes: { 'tessera.model': model, 'tessera.worker': this.workerId },
      })
      .end({ endMs: batchStartedAt });
  }

  /** Runs the reply to a request inside its `reply` span, then forgets the request. */
  async reply<T>(requestId: string, send: () => Promise<T>): Promise<T> {
    const parent = this.parents.get(requestId);
    this.parents.delete(requestId);
    if (!parent) return send();
    const span = this.tracing.start('reply', { parent, attributes: { 'tessera.worker': this.workerId } });
    try {
      return await send();
    } finally {
      span.end();
    }
  }

  batch(e: BatchEvent): void {
    if (!this.tracing.enabled) return;
    const links = e.requestIds.map((id) => this.parents.get(id));
    const attributes = {
      'tessera.model': e.model.name,
      'tessera.batch_size': e.size,
      'tessera.requests': e.requests,
      'tessera.provider': e.provider,
      'tessera.worker': this.workerId,
    };
    const batch = this.tracing.start('batch', { startMs: e.startedAt - e.delayMs, links, attributes });
    this.tracing.start('session.run', { parent: batch.traceparent, startMs: e.startedAt }).end({ endMs: e.endedAt });
    batch.end({ endMs: e.endedAt });
  }
}
