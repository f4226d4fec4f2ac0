import type { Principal } from '../auth/key-store.js';
import type { RateCharge } from './rate-charge.js';

/**
 * What the inference path reads of a request, whichever transport brought it: an Express
 * request is one as it is, and the gRPC service builds one from a call and its metadata. The
 * path below it (policy, idempotency, admission, waiting) never sees the transport.
 */
export interface InferenceCall {
  /** The request id (X-Request-Id, or the gRPC `x-request-id` metadata, or a generated one). */
  id: string;
  /** process.hrtime.bigint() at arrival: the deadline is measured from here. */
  startedAt: bigint;
  principal?: Principal | undefined;
  /** The client's address (what a key-less caller is counted and limited as). */
  ip?: string | undefined;
  /** The OIP body: only its `parameters` (priority, timeout) are read here. */
  body?: unknown;
  /** The rate-limit count left to the admission script (see RateCharge). */
  rateCharge?: RateCharge | undefined;
  /** A request header (lower-case name): deadline headers, Cache-Control, Idempotency-Key. */
  get(name: string): string | undefined;
  /** Aborts when the client goes away; an Express request derives it from its response. */
  signal?: AbortSignal | undefined;
  /** The call's server span as a W3C traceparent, when the transport has no Express response to hold it (gRPC). */
  traceparent?: string | undefined;
}

/** What an HTTP request has of its response: whether it was sent when the connection closed. */
interface WithResponse {
  res?: { once(event: 'close', listener: () => void): unknown; writableFinished: boolean } | undefined;
}

/** Aborts when the client goes away: for HTTP, when it closes the connection before the response was sent. */
export function callSignal(call: InferenceCall & WithResponse): AbortSignal {
  if (call.signal) return call.signal;
  const ac = new AbortController();
  call.res?.once('close', () => {
    if (!call.res!.writableFinished) ac.abort();
  });
  return ac.signal;
}
