import { Worker } from 'node:worker_threads';
import { modelKey, ServiceError, type ModelSpec, type Tensor } from '@tessera/contract';
import { limitAddressSpaceGrowth, liftAddressSpaceLimit } from './address-space.js';
import { classifyRunError } from './errors.js';
import { type LoadInfo, type Ready, type Reply, type Request, type ThreadConfig, type WireError } from './protocol.js';
import { providerPlan } from './providers.js';
import type { LoadResult, Logger, OrtRunner, OrtRunnerOptions, Provider, RunResult } from './types.js';

/** After this long close() says what it is waiting for (it keeps waiting). */
const CLOSE_NOTICE_MS = 10_000;

type Success<K extends Request['kind']> = Extract<Reply, { ok: true; kind: K }>;
type Outgoing = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

const consoleLogger: Logger = {
  info: (obj, msg) => console.info(msg, obj),
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

function fromWire(wire: WireError): Error {
  const err = wire.code !== undefined ? new ServiceError(wire.code, wire.message) : new Error(wire.message);
  if (wire.code === undefined) err.name = wire.name;
  // The thread's stack says where ONNX Runtime was called from; the main thread's says nothing.
  if (wire.stack !== undefined) err.stack = wire.stack;
  return err;
}

class ThreadedOrtRunner implements OrtRunner {
  readonly #opts: OrtRunnerOptions;
  readonly #log: Logger;
  readonly #pending = new Map<number, Pending>();
  /** Calls made but not yet sent to the thread (waiting for it to start). */
  readonly #entering = new Set<Promise<Worker>>();
  readonly #providers = new Map<string, Provider>();
  #nextId = 1;
  #thread: Worker | undefined;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #cudaWarned = false;
  #limitHolds = 0;
  #limitOps: Promise<unknown> = Promise.resolve();

  constructor(opts: OrtRunnerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? consoleLogger;
  }

  async start(): Promise<void> {
    await this.#ensureThread();
    if (this.#opts.addressSpaceHeadroomMb !== undefined) await this.#queueLimit('apply');
  }

  #spawn(): Promise<void> {
    const config: ThreadConfig = {
      cudaDeviceId: this.#opts.cudaDeviceId,
      intraOpNumThreads: this.#opts.intraOpNumThreads,
      interOpNumThreads: this.#opts.interOpNumThreads,
      disableCpuArena: this.#opts.addressSpaceHeadroomMb !== undefined,
    };
    const worker = new Worker(new URL('./inference-thread.js', import.meta.url), { workerData: config });
    this.#thread = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: Ready | Reply) => {
        if (!('id' in msg)) {
          this.#log.info({ ortVersion: msg.ortVersion, threadId: worker.threadId }, 'inference thread ready');
          if (this.#pending.size === 0) worker.unref();
          resolve();
          return;
        }
        this.#settle(worker, msg);
      });
      const gone = (err: Error): void => {
        reject(err);
        this.#threadGone(worker, err);
      };
      worker.on('error', gone);
      worker.on('exit', (code) => gone(new Error(`inference thread exited with code ${code}`)));
    });
  }

  #settle(worker: Worker, reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    // Idle, the thread must not keep the process alive on its own.
    if (this.#pending.size === 0) worker.unref();
    if (reply.ok) pending.resolve(reply);
    else pending.reject(fromWire(reply.error));
  }

  #threadGone(worker: Worker, err: Error): void {
    if (this.#thread !== worker) return;
    this.#thread = undefined;
    this.#ready = undefined;
    this.#providers.clear();
    if (this.#closing === undefined) {
      this.#log.error(
        { err: err.message, pending: this.#pending.size },
        'inference thread failed; the next request starts a new one',
      );
    }
    for (const p of this.#pending.values())
      p.reject(new ServiceError('inference_failed', `inference thread failed: ${err.message}`));
    this.#pending.clear();
  }

  async #ensureThread(): Promise<Worker> {
    if (this.#closing !== undefined) throw new ServiceError('not_ready', 'the ONNX Runtime runner is closed');
    if (this.#thread === undefined || this.#ready === undefined) this.#ready = this.#spawn();
    await this.#ready;
    if (this.#thread === undefined) throw new ServiceError('inference_failed', 'inference thread is not running');
    return this.#thread;
  }

  async #call<K extends Request['kind']>(
    req: Outgoing & { kind: K },
    transfer: ArrayBuffer[] = [],
  ): Promise<Success<K>> {
    const entering = this.#ensureThread();
    this.#entering.add(entering);
    let worker: Worker;
    try {
      worker = await entering;
    } finally {
      this.#entering.delete(entering);
    }
    const id = this.#nextId++;
    return new Promise<Success<K>>((resolve, reject) => {
      this.#pending.set(id, { resolve: (r) => resolve(r as Success<K>), reject });
      worker.ref();
      try {
        worker.postMessage({ ...req, id }, transfer);
      } catch (err) {
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** prlimit calls run one at a time so a lift and a re-apply can never land out of order. */
  #queueLimit(op: 'lift' | 'apply'): Promise<void> {
    const headroomMb = this.#opts.addressSpaceHeadroomMb ?? 0;
    const next = this.#limitOps.then(async () => {
      if (op === 'lift') return liftAddressSpaceLimit();
      const limit = await limitAddressSpaceGrowth(headroomMb * 2 ** 20);
      this.#log.info({ headroomMb, limitMb: Math.round(limit / 2 ** 20) }, 'address-space limit applied');
    });
    this.#limitOps = next.catch(() => undefined);
    return next;
  }

  /** Creating a session may need more than the headroom, so the limit is lifted meanwhile. */
  async #withLimitLifted<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#opts.addressSpaceHeadroomMb === undefined) return fn();
    this.#limitHolds++;
    try {
      if (this.#limitHolds === 1) await this.#queueLimit('lift');
      else await this.#limitOps;
      return await fn();
    } finally {
      this.#limitHolds--;
      if (this.#limitHolds === 0 && this.#closing === undefined) await this.#queueLimit('apply');
    }
  }

  #noteLoaded(model: ModelSpec, info: LoadInfo, what: string): void {
    this.#providers.set(modelKey(model), info.provider);
    const ids = { model: model.name, version: model.version };
    if (info.cudaFallback !== undefined) {
      // One warning per runner: the cause is the same for every model that follows.
      if (!this.#cudaWarned)
        this.#log.warn(
          { ...ids, reason: info.cudaFallback },
          `CUDA unavailable, falling back to CPU: ${info.cudaFallback}`,
        );
      else this.#log.info(ids, 'CUDA unavailable (see the earlier warning); model runs on CPU');
      this.#cudaWarned = true;
    }
    this.#log.info(
      {
        ...ids,
        provider: info.provider,
        inputs: info.inputs.map((i) => i.name),
        outputs: info.outputs.map((o) => o.name),
      },
      what,
    );
  }

  async load(model: ModelSpec): Promise<LoadResult> {
    const plan = providerPlan(model, this.#opts.device);
    const reply = await this.#withLimitLifted(() => this.#call({ kind: 'load', model, plan }));
    this.#noteLoaded(model, reply.info, 'model session created');
    return { provider: reply.info.provider, inputs: reply.info.inputs, outputs: reply.info.outputs };
  }

  async reset(model: ModelSpec): Promise<void> {
    const plan = providerPlan(model, this.#opts.device);
    const reply = await this.#withLimitLifted(() => this.#call({ kind: 'reset', model, plan }));
    this.#noteLoaded(model, reply.info, 'model session recreated');
  }

  /** Releases the model's session (an unloaded version); a later run would create it again. */
  async unload(model: ModelSpec): Promise<void> {
    await this.#call({ kind: 'unload', model });
    this.#providers.delete(modelKey(model));
    this.#log.info({ model: model.name, version: model.version }, 'model session released');
  }

  provider(model: ModelSpec): Provider | undefined {
    return this.#providers.get(modelKey(model));
  }

  /**
   * Inputs are copied into fresh buffers which are then transferred, so the caller's arrays
   * stay usable (never detached) and the thread receives memory nobody else touches.
   */
  async run(model: ModelSpec, inputs: Tensor[]): Promise<RunResult> {
    try {
      const plan = providerPlan(model, this.#opts.device);
      const copies = inputs.map((t): Tensor => ({
        name: t.name,
        datatype: t.datatype,
        shape: [...t.shape],
        data: t.data.slice(),
      }));
      const transfer = copies.map((t) => t.data.buffer as ArrayBuffer);
      const reply = await this.#call({ kind: 'run', model, plan, inputs: copies }, transfer);
      if (reply.loaded !== undefined) this.#noteLoaded(model, reply.loaded, 'model session created on first run');
      return { outputs: reply.outputs, computeMs: reply.computeMs, provider: reply.provider };
    } catch (err) {
      throw classifyRunError(err);
    }
  }

  /** Resolves when the inference thread answers; it cannot while it is stuck in a run. */
  async ping(): Promise<void> {
    await this.#call({ kind: 'ping' });
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    // A call made before close() reaches the thread ahead of the close message: sent after it,
    // a run would find its sessions released, load them again and be terminated mid-run.
    await Promise.allSettled([...this.#entering]);
    const worker = this.#thread;
    if (worker !== undefined && this.#ready !== undefined) {
      // Queued behind in-flight batches, so they finish before the sessions are released.
      // Terminating the thread while onnxruntime-node is inside session.run aborts the whole
      // process (SIGABRT from the binding), so there is deliberately no timeout here.
      const id = this.#nextId++;
      const released = new Promise<void>((resolve) => {
        this.#pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
        worker.ref();
        worker.postMessage({ id, kind: 'close' } satisfies Request);
      });
      const notice = setTimeout(() => {
        this.#log.warn({ pending: this.#pending.size - 1 }, 'close is waiting for running batches to finish');
      }, CLOSE_NOTICE_MS);
      await released;
      clearTimeout(notice);
    }
    this.#thread = undefined;
    this.#ready = undefined;
    if (worker !== undefined) await worker.terminate();
    for (const p of this.#pending.values())
      p.reject(new ServiceError('not_ready', 'the ONNX Runtime runner was closed'));
    this.#pending.clear();
    this.#providers.clear();
  }
}

function checkOptions(opts: OrtRunnerOptions): void {
  if (!['auto', 'cuda', 'cpu'].includes(opts.device))
    throw new RangeError(`device must be auto, cuda or cpu, got ${String(opts.device)}`);
  if (!Number.isInteger(opts.intraOpNumThreads) || opts.intraOpNumThreads < 1) {
    throw new RangeError(`intraOpNumThreads must be a positive integer, got ${opts.intraOpNumThreads}`);
  }
  if (
    opts.interOpNumThreads !== undefined &&
    (!Number.isInteger(opts.interOpNumThreads) || opts.interOpNumThreads < 1)
  ) {
    throw new RangeError(`interOpNumThreads must be a positive integer, got ${opts.interOpNumThreads}`);
  }
  if (!Number.isInteger(opts.cudaDeviceId) || opts.cudaDeviceId < 0) {
    throw new RangeError(`cudaDeviceId must be a non-negative integer, got ${opts.cudaDeviceId}`);
  }
  if (opts.addressSpaceHeadroomMb !== undefined) {
    if (!(opts.addressSpaceHeadroomMb > 0))
      throw new RangeError(`addressSpaceHeadroomMb must be positive, got ${opts.addressSpaceHeadroomMb}`);
    if (process.platform !== 'linux') throw new Error('addressSpaceHeadroomMb needs Linux (RLIMIT_AS via prlimit)');
  }
}

/** Starts the inference thread (loading ONNX Runtime there) and returns the runner. */
export async function createOrtRunner(opts: OrtRunnerOptions): Promise<OrtRunner> {
  checkOptions(opts);
  const runner = new ThreadedOrtRunner(opts);
  try {
    await runner.start();
  } catch (err) {
    await runner.close();
    throw err;
  }
  return runner;
}
