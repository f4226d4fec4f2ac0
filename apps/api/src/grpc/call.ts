import type * as grpc from '@grpc/grpc-js';
import { ServiceError } from '@tessera/contract';
import { insufficientScope, verifyCredentials, type AuthOptions } from '../auth/authenticate.js';
import { tracing, type SpanHandle } from '@tessera/telemetry';
import type { Principal } from '../auth/key-store.js';
import type { InferenceCall } from '../inference/call.js';
import { requestIdOf } from '../http/middleware/request-id.js';

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** A metadata value as a string (the first one), as a header would be. */
export function metadataValue(metadata: grpc.Metadata, name: string): string | undefined {
  const v = metadata.get(name)[0];
  return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
}

/** Express's compiled `trust proxy` setting: whether the address at hop `i` is a trusted proxy. */
export type TrustProxy = (address: string, i: number) => boolean;

/**
 * The client's address as Express computes it for a request: the peer, or, while the peer and
 * the hops before it are trusted proxies (nginx), the address their X-Forwarded-For names.
 */
export function clientAddress(call: AnyCall, trust: TrustProxy): string {
  const peer = call
    .getPeer()
    .replace(/^ipv[46]:/, '')
    .replace(/^\[?([^\]]*?)\]?:\d+$/, '$1');
  const forwarded = (metadataValue(call.metadata, 'x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [peer, ...forwarded.reverse()];
  let i = 0;
  while (i < chain.length - 1 && trust(chain[i]!, i)) i++;
  return chain[i]!;
}

/** Milliseconds left before the call's gRPC deadline; undefined when it has none. */
function deadlineLeftMs(call: AnyCall): number | undefined {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(1, Math.floor(at - Date.now())) : undefined;
}

export interface CallIdentity {
  principal: Principal;
  ip: string;
  requestId: string;
}

/** Who is calling, from `authorization: Bearer <key>` metadata; holding `scope` when one is asked. */
export async function identify(
  call: AnyCall,
  auth: AuthOptions,
  trustProxy: TrustProxy,
  scope?: 'infer',
): Promise<CallIdentity> {
  const ip = clientAddress(call, trustProxy);
  const requestId = requestIdOf(metadataValue(call.metadata, 'x-request-id'));
  const principal = await verifyCredentials(auth, metadataValue(call.metadata, 'authorization'), ip);
  if (scope && !principal.scopes.includes(scope)) throw insufficientScope(scope, principal);
  return { principal, ip, requestId };
}

/**
 * One inference of a call as the inference path sees it: the gRPC deadline stands for the
 * X-Request-Timeout-Ms header, the other headers are metadata, and the call's cancellation
 * (the client left, or its deadline passed) aborts it.
 */
export function inferenceCall(
  call: AnyCall,
  who: CallIdentity,
  parameters: Record<string, unknown>,
  signal: AbortSignal,
  requestId = who.requestId,
  traceparent?: string,
): InferenceCall {
  const timeoutMs = deadlineLeftMs(call);
  return {
    id: requestId,
    traceparent,
    startedAt: process.hrtime.bigint(),
    principal: who.principal,
    ip: who.ip,
    body: { parameters },
    signal,
    get(name) {
      if (name === 'x-request-timeout-ms' && timeoutMs !== undefined) return String(timeoutMs);
      return metadataValue(call.metadata, name);
    },
  };
}

/**
 * One server span per inference of a call, continuing the client's W3C `traceparent` metadata as
 * a REST request continues its header; undefined while tracing is off.
 */
export function callSpan(call: AnyCall, method: string): SpanHandle | undefined {
  const t = tracing();
  if (!t.enabled) return undefined;
  return t.start(`gRPC ${method}`, {
    parent: metadataValue(call.metadata, 'traceparent'),
    kind: 'server',
    attributes: { 'rpc.system': 'grpc', 'rpc.method': method },
  });
}

/** An AbortSignal that aborts when the call is cancelled. */
export function cancellation(call: AnyCall): AbortSignal {
  const ac = new AbortController();
  call.once('cancelled', () => ac.abort(new ServiceError('client_closed_request', 'the client cancelled the call')));
  return ac.signal;
}
