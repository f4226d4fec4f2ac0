/**
 * Entry point of the inference thread. onnxruntime-node's session.run executes synchronously on
 * the calling JavaScript thread, so sessions live here and the main thread keeps its event loop.
 * Requests are handled strictly one after another: a reset must never release a session that a
 * queued run is about to use.
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { ServiceError, type Tensor } from '@tessera/contract';
import type { Ready, Reply, Request, ThreadConfig, WireError } from './protocol.js';
import { SessionStore } from './session-store.js';

const port = parentPort;
if (port === null) throw new Error('inference-thread.js must run as a worker thread');
const store = new SessionStore(workerData as ThreadConfig);

function wireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  return {
    name: err.name,
    message: err.message,
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(err instanceof ServiceError ? { code: err.code } : {}),
  };
}

/** Output buffers are fresh per run, so they move to the main thread without a copy when whole. */
function transferable(outputs: Tensor[]): ArrayBuffer[] {
  const seen = new Set<ArrayBufferLike>();
  for (const t of outputs) {
    const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength;
    if (!whole || seen.has(t.data.buffer) || !(t.data.buffer instanceof ArrayBuffer)) t.data = t.data.slice();
    seen.add(t.data.buffer);
  }
  return [...seen] as ArrayBuffer[];
}

async function handle(req: Request): Promise<void> {
  let reply: Reply;
  let transfer: ArrayBuffer[] = [];
  try {
    switch (req.kind) {
      case 'load':
        reply = { id: req.id, ok: true, kind: 'load', info: await store.load(req.model, req.plan) };
        break;
      case 'reset':
        reply = { id: req.id, ok: true, kind: 'reset', info: await store.reset(req.model, req.plan) };
        break;
      case 'unload':
        await store.unload(req.model);
        reply = { id: req.id, ok: true, kind: 'unload' };
        break;
      case 'run': {
        // A thread started after the previous one died has no sessions yet; load on demand.
        const loaded = store.has(req.model) ? undefined : await store.load(req.model, req.plan);
        const outcome = await store.run(req.model, req.inputs);
        transfer = transferable(outcome.outputs);
        reply = { id: req.id, ok: true, kind: 'run', ...outcome, ...(loaded !== undefined ? { loaded } : {}) };
        break;
      }
      case 'close':
        await store.closeAll();
        reply = { id: req.id, ok: true, kind: 'close' };
        break;
      case 'ping':
        reply = { id: req.id, ok: true, kind: 'ping' };
        break;
    }
  } catch (err) {
    reply = { id: req.id, ok: false, error: wireError(err) };
  }
  try {
    port!.postMessage(reply, transfer);
  } catch (err) {
    port!.postMessage({ id: req.id, ok: false, error: wireError(err) } satisfies Reply);
  }
}

let queue = Promise.resolve();
port.on('message', (req: Request) => {
  // A ping skips the queue: it is answered as soon as this thread's loop is free, so it measures
  // whether the thread is stuck (in a session.run that never returns), not how busy it is.
  if (req.kind === 'ping') port.postMessage({ id: req.id, ok: true, kind: 'ping' } satisfies Reply);
  else queue = queue.then(() => handle(req));
});
port.postMessage({ kind: 'ready', ortVersion: ort.env.versions.node } satisfies Ready);
