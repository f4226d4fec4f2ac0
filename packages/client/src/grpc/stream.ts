import type * as grpc from '@grpc/grpc-js';
import { errorFor, TransportError } from '../errors.js';
import { toTensor, type TensorInput } from '../tensors.js';
import { newIdempotencyKey, type InferOptions, type InferResult } from '../types.js';
import { errorOfStatus, fromInferResponse, toInferRequest } from './convert.js';
import type { ModelInferRequest, ModelInferResponse } from './proto.js';

interface StreamResponse {
  error_message: string;
  infer_response: ModelInferResponse | null;
}

/**
 * One ModelStreamInfer stream. Every request gets an id (its own, or a made-up unique one) and its
 * promise settles with the response that carries that id, whatever order they finish in. A
 * failed request fails alone; the stream stays open. Errors on a stream have only a message
 * (Triton's protocol), so they are typed from the message's leading code when the server put
 * one there.
 */
export class InferStream {
  private readonly pending = new Map<string, { resolve: (r: InferResult) => void; reject: (e: Error) => void }>();
  private next = 0;
  /** Made-up ids are unique across streams, so that no two requests a server sees share one. */
  private readonly prefix = newIdempotencyKey();

  constructor(private readonly call: grpc.ClientDuplexStream<ModelInferRequest, StreamResponse>) {
    call.on('data', (msg: StreamResponse) => this.onResponse(msg));
    call.on('error', (err: grpc.ServiceError) => this.failAll(errorOfStatus(err)));
    call.on('end', () =>
      this.failAll(
        new TransportError('the stream ended with requests unanswered', { code: 'stream_ended', status: 0 }),
      ),
    );
  }

  infer(model: string, inputs: TensorInput[], opts: InferOptions = {}): Promise<InferResult> {
    const id = opts.id ?? `${this.prefix}-${this.next++}`;
    if (this.pending.has(id))
      return Promise.reject(new Error(`request id '${id}' is already in flight on this stream`));
    const request = toInferRequest(model, inputs.map(toTensor), { ...opts, id });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.call.write(request);
    });
  }

  /** Half-closes the stream once every request is answered. */
  end(): void {
    this.call.end();
  }

  private onResponse(msg: StreamResponse): void {
    const id = msg.infer_response?.id ?? '';
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (!msg.error_message) return waiter.resolve(fromInferResponse(msg.infer_response!));
    // "[code 429 rate_limited] message": the service's code and status, as the server writes them.
    const m = /^\[(\d{3}) ([a-z_]+)\] /.exec(msg.error_message);
    waiter.reject(
      errorFor(m ? msg.error_message.slice(m[0].length) : msg.error_message, {
        code: m?.[2] ?? 'stream_error',
        status: m ? Number(m[1]) : 500,
      }),
    );
  }

  private failAll(err: Error): void {
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }
}
