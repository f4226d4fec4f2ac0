/**
 * Errors the server answered with, as classes a caller can catch by kind. Each carries the
 * server's `code` (the `code` of its `{"error","code"}` body, or of the gRPC status's
 * `tessera-code` metadata), the HTTP status it stands for, and `Retry-After` when one was sent.
 */
export interface ErrorDetails {
  code: string;
  status: number;
  /** Seconds the server asked to wait before a retry (429, 503). */
  retryAfterS?: number | undefined;
  requestId?: string | undefined;
  cause?: unknown;
}

export class TesseraError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfterS: number | undefined;
  readonly requestId: string | undefined;
  constructor(message: string, details: ErrorDetails) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = new.target.name;
    this.code = details.code;
    this.status = details.status;
    this.retryAfterS = details.retryAfterS;
    this.requestId = details.requestId;
  }
}

/** 400: malformed request or invalid tensors. */
export class InvalidRequestError extends TesseraError {}
/** 401: missing, malformed or revoked API key. */
export class UnauthenticatedError extends TesseraError {}
/** 403: the key lacks the scope, model or priority. */
export class PermissionDeniedError extends TesseraError {}
/** 404: unknown model, version or route. */
export class NotFoundError extends TesseraError {}
/** 409: an idempotency key reused for another request. */
export class ConflictError extends TesseraError {}
/** 413: the body is over the server's limit. */
export class PayloadTooLargeError extends TesseraError {}
/** 422: the model rejected the input at run time. */
export class ModelRejectedInputError extends TesseraError {}
/** 429: a rate limit or a model's queue cap; retried automatically. */
export class RateLimitedError extends TesseraError {}
/** 503: no worker serves the model, or the server is not ready; retried automatically. */
export class UnavailableError extends TesseraError {}
/** 504, or the client's own deadline passed. */
export class DeadlineExceededError extends TesseraError {}
/** 5xx the server could not handle: a bug or a failed inference. */
export class ServerError extends TesseraError {}
/** The server could not be reached, or its answer could not be read. */
export class TransportError extends TesseraError {}

const BY_STATUS: Record<number, typeof TesseraError> = {
  400: InvalidRequestError,
  401: UnauthenticatedError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: ModelRejectedInputError,
  429: RateLimitedError,
  503: UnavailableError,
  504: DeadlineExceededError,
};

/** The error class for an HTTP status. */
export function errorFor(message: string, details: ErrorDetails): TesseraError {
  const Class = BY_STATUS[details.status] ?? (details.status >= 500 ? ServerError : TesseraError);
  return new Class(message, details);
}

/** Whether a retry with the same idempotency key may succeed. */
export function isRetryable(err: unknown): err is TesseraError {
  return err instanceof RateLimitedError || err instanceof UnavailableError;
}

/** A Retry-After header: seconds, or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}
