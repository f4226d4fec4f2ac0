import { ServiceError, type ModelSpec } from '@tessera/contract';
import type { ApiConfig } from '@tessera/config';
import type { InferenceCall } from './call.js';
import { TimeoutError } from './with-timeout.js';

/**
 * How long a request may take and how urgent it is, from the model's defaults and what the
 * client asks for. Following Triton's schedule-policy extension, OIP `parameters.timeout` is in
 * microseconds and `parameters.priority` is an integer where 1 is the highest level and 0 (or
 * absent) means the default level. `X-Request-Timeout-Ms` (or `Request-Timeout`, in
 * milliseconds) sets the timeout from a header. A client can only shorten its deadline.
 */
export interface RequestPolicy {
  /** Milliseconds left until the deadline, measured now. */
  timeoutMs: number;
  /** The whole deadline granted to the request, from its arrival. */
  totalMs: number;
  /** Epoch milliseconds (performance clock, as the worker's scheduler). */
  deadline: number;
  /** 1 (highest) … PRIORITY_LEVELS; also the BullMQ job priority, where lower runs first. */
  priority: number;
}

const now = () => performance.timeOrigin + performance.now();
/** How early a timer may fire against this clock (a budget rounded to whole milliseconds). */
const TIMER_SLACK_MS = 2;

function parameters(req: InferenceCall): Record<string, unknown> {
  const body = req.body as { parameters?: unknown } | undefined;
  const p = body && typeof body === 'object' && !Array.isArray(body) ? body.parameters : undefined;
  if (p === undefined) return {};
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    throw new ServiceError('bad_request', "'parameters' must be an object");
  return p as Record<string, unknown>;
}

function positiveInt(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
    throw new ServiceError('bad_request', `${what} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** The client's own timeout in ms, if it set one. */
function clientTimeoutMs(req: InferenceCall, params: Record<string, unknown>): number | undefined {
  const asked: number[] = [];
  if (params.timeout !== undefined) asked.push(positiveInt(params.timeout, 'parameters.timeout (microseconds)') / 1000);
  for (const name of ['x-request-timeout-ms', 'request-timeout']) {
    const header = req.get(name);
    if (header !== undefined) asked.push(positiveInt(header, `header ${name} (milliseconds)`));
  }
  return asked.length ? Math.min(...asked) : undefined;
}

/**
 * As Triton's scheduler: 0, absent, or a level past PRIORITY_LEVELS mean the default level (Triton
 * moves an out-of-range priority to the default rather than refusing it); anything but a
 * non-negative integer is a 400, as Triton's parser refuses it.
 */
function requestedPriority(req: InferenceCall, params: Record<string, unknown>, config: ApiConfig): number {
  const raw = params.priority;
  if (raw !== undefined && (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0)) {
    throw new ServiceError(
      'bad_request',
      `parameters.priority must be a non-negative integer (1 is the highest of ${config.PRIORITY_LEVELS} levels; 0 is the default, ${config.DEFAULT_PRIORITY}); got ${JSON.stringify(raw)}`,
    );
  }
  const asked = raw !== undefined && raw !== 0 && raw <= config.PRIORITY_LEVELS ? raw : undefined;
  const priority = asked ?? config.DEFAULT_PRIORITY;
  const range = req.principal?.priority;
  if (!range) return priority;
  if (asked !== undefined && (priority < range.min || priority > range.max)) {
    throw new ServiceError(
      'forbidden',
      `API key '${req.principal!.name}' may use priorities ${range.min} to ${range.max}, not ${priority}`,
    );
  }
  // The default level, when outside the key's range, is moved to its nearest end.
  return Math.min(range.max, Math.max(range.min, priority));
}

export function requestPolicy(req: InferenceCall, model: ModelSpec, config: ApiConfig): RequestPolicy {
  const params = parameters(req);
  const modelMs = model.timeoutMs ?? config.REQUEST_TIMEOUT_MS;
  const clientMs = clientTimeoutMs(req, params);
  const totalMs = Math.min(modelMs, clientMs ?? modelMs);
  // Measured from the request's arrival, so that every call of a pipeline shares one deadline.
  const startedAt = now() - Number(process.hrtime.bigint() - req.startedAt) / 1e6;
  const deadline = startedAt + totalMs;
  const timeoutMs = Math.floor(deadline - now());
  if (timeoutMs <= 0) throw deadlineExpired(totalMs, 'before it was queued');
  return { timeoutMs, totalMs, deadline, priority: requestedPriority(req, params, config) };
}

/** A duration as a client set it: microseconds under a millisecond (OIP `timeout` is in µs). */
export function formatDeadline(ms: number): string {
  return ms < 1 ? `${Math.max(0, Math.round(ms * 1000))} µs` : `${Math.round(ms)} ms`;
}

/**
 * The one answer to a request whose deadline passed, whichever step it was in: 504 `timeout`,
 * "request timeout expired" (Triton's words) and, where it is known, the step.
 */
export function deadlineExpired(totalMs: number, step?: string): ServiceError {
  return new ServiceError(
    'timeout',
    `request timeout expired: no result within ${formatDeadline(totalMs)}${step ? ` (${step})` : ''}`,
  );
}

/**
 * A server-side failure of a request whose deadline has passed is its deadline's doing unless
 * something really failed: a Redis call bounded by the deadline (a TimeoutError) or an error
 * without a cause is answered as the deadline, so no client is told that Redis is unreachable
 * when only its time ran out. A Redis error with its own cause (connection refused, retries
 * exhausted) keeps its 503, and client errors (4xx) keep their answer.
 */
export function afterDeadline(err: unknown, policy: RequestPolicy): unknown {
  // A Redis wait bounded by the deadline may be cut a little before it by the clock (timers count
  // whole milliseconds): such a cut is the deadline's doing too.
  const cutAtDeadline =
    err instanceof ServiceError && err.cause instanceof TimeoutError && now() >= policy.deadline - TIMER_SLACK_MS;
  if (now() < policy.deadline && !cutAtDeadline) return err;
  if (!(err instanceof ServiceError)) return deadlineExpired(policy.totalMs);
  if (err.status < 500 || err.code === 'timeout') return err;
  const realFailure = err.cause !== undefined && !(err.cause instanceof TimeoutError);
  return realFailure ? err : deadlineExpired(policy.totalMs);
}
