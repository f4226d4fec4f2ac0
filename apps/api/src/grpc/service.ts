import type * as grpc from '@grpc/grpc-js';
import express from 'express';
import { ServiceError, validateInferenceRequest } from '@tessera/contract';
import type { ModelInferRequest, ModelInferResponse } from '@tessera/client/grpc';
import { assertModelAccess, mayUseModel, type AuthOptions } from '../auth/authenticate.js';
import type { ApiContext } from '../context.js';
import { idempotencyKeyOf } from '../inference/idempotency-key.js';
import type { PerKeyRateLimit } from '../http/middleware/rate-limit.js';
import { resolveModel, resolveRequested } from '../inference/models.js';
import { modelMetadata, modelReadiness, serverMetadata } from '../oip/answers.js';
import { repositoryIndex } from '../oip/repository.js';
import { readiness } from '../http/routes/service.js';
import { callSpan, cancellation, identify, inferenceCall, type CallIdentity, type TrustProxy } from './call.js';
import { toInferResponse, toOipBody } from './convert.js';
import { statusOf, streamErrorMessage } from './status.js';

/** A request the deserializer could not read: answered INVALID_ARGUMENT by the handler (see server.ts). */
export interface Malformed {
  malformed: string;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req | Malformed, Res>, callback: grpc.sendUnaryData<Res>) => void;

function checkWellFormed<T>(request: T | Malformed): T {
  if (request && typeof request === 'object' && 'malformed' in request)
    throw new ServiceError('bad_request', `malformed protobuf message: ${request.malformed}`);
  return request as T;
}

export interface ServiceDeps {
  ctx: ApiContext;
  auth: AuthOptions;
  limiter: PerKeyRateLimit;
}

/**
 * The handlers of inference.GRPCInferenceService. Each goes through the same steps as its REST
 * route: authenticate (health calls are open, as /v2/health/* is), check scope and model
 * access, count against the key's rate limit, then the same function as REST answers.
 */
export function inferenceHandlers({ ctx, auth, limiter }: ServiceDeps): grpc.UntypedServiceImplementation {
  // The proxies the HTTP side trusts, compiled as Express compiles them (TRUST_PROXY).
  const trust = express().set('trust proxy', ctx.config.TRUST_PROXY).get('trust proxy fn') as TrustProxy;

  /** A unary call: `answer` runs after authentication (unless open) and its errors become statuses. */
  const unary =
    <Req, Res>(
      open: boolean,
      answer: (
        request: Req,
        who: CallIdentity | undefined,
        call: grpc.ServerUnaryCall<Req | Malformed, Res>,
      ) => Promise<Res>,
    ): Unary<Req, Res> =>
    (call, callback) => {
      let who: CallIdentity | undefined;
      const run = async () => {
        if (!open) {
          who = await identify(call, auth, trust, 'infer');
        }
        return answer(checkWellFormed(call.request), who, call);
      };
      run().then(
        (res) => callback(null, res),
        (err: unknown) => callback(statusOf(err, ctx.logger, who?.requestId ?? '') as grpc.ServiceError),
      );
    };

  /** Non-inference calls count against the rate limit at once, as their REST routes do. */
  const counted = async (who: CallIdentity | undefined) => {
    if (who) await limiter.countNow(who);
  };

  const modelOf = (who: CallIdentity | undefined, name: string, version: string) => {
    assertModelAccess(who ?? {}, name);
    return resolveModel(ctx, name, version || undefined);
  };

  /** One inference: the same validation, policy, admission and answer as POST /v2/models/{m}/infer. */
  const answerInfer = async (
    request: ModelInferRequest,
    who: CallIdentity,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
    signal: AbortSignal,
    traceparent: string | undefined,
  ): Promise<ModelInferResponse> => {
    // Without a version, the default for the provider serving the model (as REST's infer).
    assertModelAccess(who, request.model_name);
    const model = await resolveRequested(ctx, request.model_name, request.model_version || undefined);
    const { body, binary } = toOipBody(request);
    const validated = validateInferenceRequest(model, body, binary);
    const pending = limiter.defer(who);
    if (pending?.refused) throw pending.refused;
    try {
      const parameters = body.parameters as Record<string, unknown>;
      const inference = inferenceCall(call, who, parameters, signal, who.requestId, traceparent);
      inference.rateCharge = pending?.charge;
      const outcome = await ctx.infer.run(inference, model, validated, {
        idempotencyKey: idempotencyKeyOf(inference, parameters.idempotency_key),
      });
      return toInferResponse(model, request.id, outcome);
    } finally {
      pending?.release();
    }
  };

  /** answerInfer inside the call's server span (see callSpan). */
  const infer = async (
    request: ModelInferRequest,
    who: CallIdentity,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
    signal: AbortSignal,
    method: 'ModelInfer' | 'ModelStreamInfer',
  ): Promise<ModelInferResponse> => {
    const span = callSpan(call, method);
    span?.setAttributes({ 'tessera.model': request.model_name });
    try {
      const response = await answerInfer(request, who, call, signal, span?.traceparent);
      span?.end();
      return response;
    } catch (err) {
      span?.end({ error: (err as Error).message });
      throw err;
    }
  };

  return {
    ServerLive: unary(true, async () => ({ live: true })),
    ServerReady: unary(true, async () => ({ ready: (await readiness(ctx)).ready })),
    ServerMetadata: unary(false, async (_req, who) => {
      await counted(who);
      return serverMetadata();
    }),
    ModelReady: unary<{ name: string; version: string }, { ready: boolean }>(false, async (req, who) => {
      await counted(who);
      return { ready: (await modelReadiness(ctx, modelOf(who, req.name, req.version))).ready };
    }),
    ModelMetadata: unary<{ name: string; version: string }, unknown>(false, async (req, who) => {
      await counted(who);
      const { parameters, ...meta } = await modelMetadata(ctx, modelOf(who, req.name, req.version));
      // The gRPC message has string properties where REST has parameters.
      return {
        ...meta,
        properties: Object.fromEntries(Object.entries(parameters ?? {}).map(([k, v]) => [k, String(v)])),
      };
    }),
    RepositoryIndex: unary<{ ready: boolean }, unknown>(false, async (req, who) => {
      await counted(who);
      const rows = await repositoryIndex(ctx, (name) => mayUseModel(who ?? {}, name));
      return {
        models: (req.ready ? rows.filter((m) => m.state === 'READY') : rows).map((m) => ({
          name: m.name,
          version: m.version ?? '',
          state: m.state ?? '',
          reason: m.reason ?? '',
        })),
      };
    }),
    ModelInfer: unary<ModelInferRequest, ModelInferResponse>(false, (req, who, call) =>
      infer(req, who!, call, cancellation(call), 'ModelInfer'),
    ),
    ModelStreamInfer: (call: grpc.ServerDuplexStream<ModelInferRequest | Malformed, unknown>) => {
      const signal = cancellation(call);
      let failed = false;
      const identified = identify(call, auth, trust, 'infer');
      // A stream without a valid key ends at once with the status a unary call would get.
      identified.catch((err: unknown) => {
        failed = true;
        call.emit('error', statusOf(err, ctx.logger, ''));
      });
      let inFlight = 0;
      let ended = false;
      const finishIfDone = () => {
        if (ended && inFlight === 0 && !failed) call.end();
      };
      call.on('data', (message: ModelInferRequest | Malformed) => {
        inFlight++;
        void identified
          .then((who) => infer(checkWellFormed(message), who, call, signal, 'ModelStreamInfer'))
          .then(
            (response) => ({ error_message: '', infer_response: response }),
            (err: unknown) => {
              // A failed request fails alone: its answer carries its id, and the stream stays open.
              const request = message as Partial<ModelInferRequest>;
              return {
                error_message: streamErrorMessage(statusOf(err, ctx.logger, '')),
                infer_response: {
                  model_name: request.model_name ?? '',
                  model_version: request.model_version ?? '',
                  id: request.id ?? '',
                },
              };
            },
          )
          .then((answer) => {
            inFlight--;
            if (failed || signal.aborted) return;
            call.write(answer);
            finishIfDone();
          });
      });
      call.on('end', () => {
        ended = true;
        finishIfDone();
      });
    },
  };
}
