import * as grpc from '@grpc/grpc-js';
import { DeadlineExceededError } from '../errors.js';
import { withRetries } from '../retry.js';
import { toTensor, type TensorInput } from '../tensors.js';
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
} from '../types.js';
import { errorOfStatus, fromInferResponse, toInferRequest } from './convert.js';
import { inferenceService, type ModelInferResponse } from './proto.js';
import { InferStream } from './stream.js';

export interface GrpcClientOptions extends ClientOptions {
  /** TLS credentials; plaintext (h2c) by default. */
  credentials?: grpc.ChannelCredentials;
  /** Channel options, e.g. grpc.max_receive_message_length. */
  channelOptions?: grpc.ChannelOptions;
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  // The generic client's answers are decoded by the service definition; each method casts its own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  callback: (err: grpc.ServiceError | null, response: any) => void,
) => grpc.ClientUnaryCall;

const GenericClient = () => grpc.makeGenericClientConstructor(inferenceService(), 'GRPCInferenceService');

/** The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`), in Node. */
export class GrpcInferenceClient implements InferenceApi {
  private readonly client: grpc.Client & Record<string, Unary>;

  constructor(private readonly opts: GrpcClientOptions) {
    const target = opts.url.replace(/^grpcs?:\/\//, '').replace(/\/+$/, '');
    const Client = GenericClient();
    this.client = new Client(
      target,
      opts.credentials ?? grpc.credentials.createInsecure(),
      opts.channelOptions,
    ) as never;
  }

  /** The call's metadata: the API key and the given headers. */
  metadata(extra: Record<string, string> = {}): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.opts.apiKey) md.set('authorization', `Bearer ${this.opts.apiKey}`);
    for (const [k, v] of Object.entries(extra)) md.set(k, v);
    return md;
  }

  callOptions(call: CallOptions): grpc.CallOptions {
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    return timeoutMs !== undefined ? { deadline: Date.now() + timeoutMs } : {};
  }

  private unary<T>(
    method: string,
    request: unknown,
    call: CallOptions = {},
    extra?: Record<string, string>,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const pending = this.client[method]!(request, this.metadata(extra), this.callOptions(call), (err, response) => {
        call.signal?.removeEventListener('abort', cancel);
        if (!err) return resolve(response as T);
        if (err.code === grpc.status.DEADLINE_EXCEEDED && !err.metadata?.get('tessera-code').length) {
          return reject(
            new DeadlineExceededError(`no answer within the deadline: ${err.details}`, {
              code: 'timeout',
              status: 504,
              cause: err,
            }),
          );
        }
        reject(call.signal?.aborted ? call.signal.reason : errorOfStatus(err));
      });
      const cancel = () => pending.cancel();
      call.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  async serverLive(opts: CallOptions = {}): Promise<boolean> {
    return (await this.unary<{ live: boolean }>('ServerLive', {}, opts)).live;
  }

  async serverReady(opts: CallOptions = {}): Promise<boolean> {
    return (await this.unary<{ ready: boolean }>('ServerReady', {}, opts)).ready;
  }

  serverMetadata(opts: CallOptions = {}): Promise<ServerMetadata> {
    return this.unary('ServerMetadata', {}, opts);
  }

  async modelReady(model: string, opts: CallOptions & { version?: string } = {}): Promise<boolean> {
    return (await this.unary<{ ready: boolean }>('ModelReady', { name: model, version: opts.version ?? '' }, opts))
      .ready;
  }

  async modelMetadata(model: string, opts: CallOptions & { version?: string } = {}): Promise<ModelMetadata> {
    const m = await this.unary<ModelMetadata & { properties?: Record<string, string> }>(
      'ModelMetadata',
      { name: model, version: opts.version ?? '' },
      opts,
    );
    const { properties, ...rest } = m;
    return {
      ...rest,
      ...(properties && Object.keys(properties).length ? { parameters: properties } : {}),
    } as ModelMetadata;
  }

  async repositoryIndex(opts: CallOptions & { ready?: boolean } = {}): Promise<RepositoryModel[]> {
    return (
      await this.unary<{ models: RepositoryModel[] }>(
        'RepositoryIndex',
        { repository_name: '', ready: opts.ready ?? false },
        opts,
      )
    ).models;
  }

  /** Raw bytes in and out; retried on RESOURCE_EXHAUSTED and UNAVAILABLE with the same idempotency key. */
  infer(model: string, inputs: TensorInput[], opts: InferOptions = {}): Promise<InferResult> {
    const request = toInferRequest(model, inputs.map(toTensor), opts);
    const extra: Record<string, string> = {};
    const key = opts.idempotencyKey ?? ((this.opts.retry?.retries ?? 3) > 0 ? newIdempotencyKey() : undefined);
    if (key !== undefined) extra['idempotency-key'] = key;
    if (opts.noCache) extra['cache-control'] = 'no-cache';
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    const deadlineAt = timeoutMs !== undefined ? Date.now() + timeoutMs : undefined;
    return withRetries(
      async () =>
        fromInferResponse(
          await this.unary<ModelInferResponse>(
            'ModelInfer',
            request,
            { ...opts, ...(deadlineAt !== undefined ? { timeoutMs: Math.max(1, deadlineAt - Date.now()) } : {}) },
            extra,
          ),
        ),
      this.opts.retry ?? {},
      opts.signal,
      deadlineAt,
    );
  }

  /** A ModelStreamInfer stream: many inferences in flight on one HTTP/2 stream. */
  stream(opts: CallOptions = {}): InferStream {
    const call = (
      this.client as unknown as Record<
        string,
        (md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>
      >
    ).ModelStreamInfer!(this.metadata(), this.callOptions(opts));
    return new InferStream(call as never);
  }

  close(): void {
    this.client.close();
  }
}
