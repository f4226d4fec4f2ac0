import type { RetryOptions } from './retry.js';
import type { Datatype, Tensor, TensorInput } from './tensors.js';

export type Parameters = Record<string, string | number | boolean>;

export interface ClientOptions {
  /** The server's base URL: http(s)://host:port for REST; host:port (or grpc://host:port) for gRPC. */
  url: string;
  /** Sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** Deadline of every call unless a call sets its own (ms). */
  timeoutMs?: number;
  /** Retries of 429 and 503, with the same idempotency key. */
  retry?: RetryOptions;
}

export interface CallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
  /** The call's deadline in ms; the server gets it too (X-Request-Timeout-Ms, or the gRPC deadline). */
  timeoutMs?: number;
}

export interface InferOptions extends CallOptions {
  version?: string;
  /** Output names to return (all by default). */
  outputs?: string[];
  /** 1 is the highest; 0 or absent: the server's default. */
  priority?: number;
  /**
   * Makes a retry return the first try's result instead of running again. One is made up for
   * every call that retries unless given; never reuse a key for a different request.
   */
  idempotencyKey?: string;
  /** The OIP request id, echoed in the response. */
  id?: string;
  /** Extra request parameters. */
  parameters?: Parameters;
  /** Skip the server's response cache. */
  noCache?: boolean;
}

export interface InferResult {
  modelName: string;
  modelVersion: string;
  id?: string;
  /** Timings (total_ms, queue_ms, compute_ms, batch_size), cache, execution_provider… */
  parameters: Parameters;
  outputs: Tensor[];
  /** The output of that name; throws when the response has none. */
  output(name: string): Tensor;
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  parameters?: Parameters;
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface RepositoryModel {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

/** What both transports offer. */
export interface InferenceApi {
  serverLive(opts?: CallOptions): Promise<boolean>;
  serverReady(opts?: CallOptions): Promise<boolean>;
  serverMetadata(opts?: CallOptions): Promise<ServerMetadata>;
  modelReady(model: string, opts?: CallOptions & { version?: string }): Promise<boolean>;
  modelMetadata(model: string, opts?: CallOptions & { version?: string }): Promise<ModelMetadata>;
  repositoryIndex(opts?: CallOptions & { ready?: boolean }): Promise<RepositoryModel[]>;
  infer(model: string, inputs: TensorInput[], opts?: InferOptions): Promise<InferResult>;
  close(): void;
}

export function resultOf(fields: Omit<InferResult, 'output'>): InferResult {
  return {
    ...fields,
    output(name) {
      const t = fields.outputs.find((o) => o.name === name);
      if (!t)
        throw new Error(
          `the response has no output '${name}'; it has ${fields.outputs.map((o) => `'${o.name}'`).join(', ')}`,
        );
      return t;
    },
  };
}

/** A new idempotency key: random, so that it never matches another request. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
