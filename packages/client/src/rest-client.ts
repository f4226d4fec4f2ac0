import { DeadlineExceededError, TransportError } from './errors.js';
import { decodeInferResponse, encodeInferRequest, errorOf, BINARY_HEADER } from './rest-encoding.js';
import { withRetries } from './retry.js';
import { toTensor, type TensorInput } from './tensors.js';
import {
  newIdempotencyKey,
  type CallOptions,
  type ClientOptions,
  type InferenceApi,
  type InferOptions,
  type InferResult,
  type ModelMetadata,
  type RepositoryModel,
  type ServerMetadata,
} from './types.js';

export interface RestClientOptions extends ClientOptions {
  /** Tensors as raw bytes (the binary tensor data extension, true) or JSON numbers. */
  binary?: boolean;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface TextPrediction {
  label: string;
  score: number;
  top?: { label: string; score: number }[];
}

export interface PredictResponse<R = unknown> {
  model: string;
  results: R[];
  latency_ms: number;
  timing: Record<string, number>;
}

type Method = 'GET' | 'POST';

function modelPath(model: string, version?: string): string {
  return `/v2/models/${encodeURIComponent(model)}${version !== undefined ? `/versions/${encodeURIComponent(version)}` : ''}`;
}

/** Base64 of bytes without Node's Buffer, so that it runs in browsers too. */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * The Open Inference Protocol over REST. Uses only fetch, TextEncoder and typed arrays, so it
 * runs in Node 20+ and in browsers. Inference and /predict calls are retried on 429 and 503
 * with the same idempotency key, honouring Retry-After.
 */
export class InferenceClient implements InferenceApi {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: RestClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** One HTTP call: deadline, key, typed errors. Answers the raw Response when it is 2xx. */
  private async send(
    method: Method,
    path: string,
    call: CallOptions,
    init: { body?: BodyInit; headers?: Record<string, string>; okStatuses?: number[] } = {},
  ): Promise<Response> {
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    const headers: Record<string, string> = { ...init.headers };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    if (timeoutMs !== undefined) headers['x-request-timeout-ms'] = String(Math.max(1, Math.floor(timeoutMs)));
    const timeout = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [call.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (err) {
      if (timeout?.aborted && !call.signal?.aborted)
        throw new DeadlineExceededError(`no answer within ${timeoutMs} ms`, {
          code: 'timeout',
          status: 504,
          cause: err,
        });
      if (call.signal?.aborted) throw err;
      throw new TransportError(`cannot reach ${this.base}: ${(err as Error).message}`, {
        code: 'unreachable',
        status: 0,
        cause: err,
      });
    }
    if (!res.ok && !(init.okStatuses ?? []).includes(res.status)) throw await errorOf(res);
    return res;
  }

  private async json<T>(method: Method, path: string, call: CallOptions = {}, body?: unknown): Promise<T> {
    const res = await this.send(
      method,
      path,
      call,
      body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
    );
    return (await res.json()) as T;
  }

  /** Retried calls: the idempotency key is fixed before the first try and sent with every one. */
  private retried<T>(call: CallOptions, attempt: () => Promise<T>): Promise<T> {
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    return withRetries(
      attempt,
      this.opts.retry ?? {},
      call.signal,
      timeoutMs !== undefined ? Date.now() + timeoutMs : undefined,
    );
  }

  async serverLive(opts: CallOptions = {}): Promise<boolean> {
    return (await this.send('GET', '/v2/health/live', opts, { okStatuses: [503] })).ok;
  }

  async serverReady(opts: CallOptions = {}): Promise<boolean> {
    return (await this.send('GET', '/v2/health/ready', opts, { okStatuses: [503] })).ok;
  }

  serverMetadata(opts: CallOptions = {}): Promise<ServerMetadata> {
    return this.json('GET', '/v2', opts);
  }

  async modelReady(model: string, opts: CallOptions & { version?: string } = {}): Promise<boolean> {
    return (await this.send('GET', `${modelPath(model, opts.version)}/ready`, opts, { okStatuses: [503] })).ok;
  }

  modelMetadata(model: string, opts: CallOptions & { version?: string } = {}): Promise<ModelMetadata> {
    return this.json('GET', modelPath(model, opts.version), opts);
  }

  /** The model's configuration (Triton's `/config`), where the server has it. */
  modelConfig(model: string, opts: CallOptions & { version?: string } = {}): Promise<Record<string, unknown>> {
    return this.json('GET', `${modelPath(model, opts.version)}/config`, opts);
  }

  /** Inference statistics (Triton's `/stats`), where the server has them. */
  modelStatistics(model: string, opts: CallOptions & { version?: string } = {}): Promise<Record<string, unknown>> {
    return this.json('GET', `${modelPath(model, opts.version)}/stats`, opts);
  }

  repositoryIndex(opts: CallOptions & { ready?: boolean } = {}): Promise<RepositoryModel[]> {
    return this.json('POST', '/v2/repository/index', opts, opts.ready ? { ready: true } : {});
  }

  /** Triton's repository load and unload, where the server allows them. */
  async loadModel(model: string, opts: CallOptions = {}): Promise<void> {
    await this.json('POST', `/v2/repository/models/${encodeURIComponent(model)}/load`, opts, {});
  }

  async unloadModel(model: string, opts: CallOptions = {}): Promise<void> {
    await this.json('POST', `/v2/repository/models/${encodeURIComponent(model)}/unload`, opts, {});
  }

  /** Inference with typed arrays in and out; binary tensors unless the client was made with `binary: false`. */
  infer(model: string, inputs: TensorInput[], opts: InferOptions = {}): Promise<InferResult> {
    const tensors = inputs.map(toTensor);
    const binary = this.opts.binary ?? true;
    const { body, headerLength } = encodeInferRequest(tensors, opts, binary);
    const headers: Record<string, string> = {
      'content-type': binary ? 'application/octet-stream' : 'application/json',
    };
    if (headerLength !== undefined) headers[BINARY_HEADER] = String(headerLength);
    if (opts.noCache) headers['cache-control'] = 'no-cache';
    const key = opts.idempotencyKey ?? ((this.opts.retry?.retries ?? 3) > 0 ? newIdempotencyKey() : undefined);
    if (key !== undefined) headers['idempotency-key'] = key;
    return this.retried(opts, async () => {
      const res = await this.send('POST', `${modelPath(model, opts.version)}/infer`, opts, {
        body: body as BodyInit,
        headers,
      });
      return decodeInferResponse(new Uint8Array(await res.arrayBuffer()), res.headers.get(BINARY_HEADER));
    });
  }

  /** POST /predict with any body (`{"model", "inputs"}`, `{"texts"}`, `{"images"}`). */
  predict<R = unknown>(body: Record<string, unknown>, opts: InferOptions = {}): Promise<PredictResponse<R>> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': opts.idempotencyKey ?? newIdempotencyKey(),
    };
    if (opts.noCache) headers['cache-control'] = 'no-cache';
    const text = JSON.stringify(body);
    return this.retried(
      opts,
      async () =>
        (await (await this.send('POST', '/predict', opts, { body: text, headers })).json()) as PredictResponse<R>,
    );
  }

  /** Text models (language identification by default): one result per text. */
  predictTexts(
    texts: string[],
    opts: InferOptions & { model?: string; k?: number } = {},
  ): Promise<PredictResponse<TextPrediction>> {
    return this.predict(
      { ...(opts.model ? { model: opts.model } : {}), texts, ...(opts.k !== undefined ? { k: opts.k } : {}) },
      opts,
    );
  }

  /** Image models (`ocr` for pages, `ocr-line` for text lines): PNG or JPEG bytes, or base64 / data: URLs. */
  predictImages<R = unknown>(
    images: (Uint8Array | string)[],
    opts: InferOptions & { model?: string } = {},
  ): Promise<PredictResponse<R>> {
    return this.predict(
      { model: opts.model ?? 'ocr', images: images.map((i) => (typeof i === 'string' ? i : base64(i))) },
      opts,
    );
  }

  close(): void {
    // fetch keeps no state of its own here
  }
}
