/**
 * Every error the service answers with has a code from this table. The table is the one place
 * that decides the HTTP status; both tiers raise `ServiceError` with a code and a message the
 * user can act on.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  model_not_found: 404,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  /** The gateway's own answers to a URI or headers over its buffers (nginx.conf). */
  uri_too_long: 414,
  unsupported_media_type: 415,
  model_rejected_input: 422,
  overloaded: 429,
  rate_limited: 429,
  header_too_large: 431,
  /** nginx's code for a client that closed the connection before the answer; nobody reads it. */
  client_closed_request: 499,
  internal: 500,
  inference_failed: 500,
  out_of_memory: 507,
  not_ready: 503,
  timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ServiceError extends Error {
  readonly code: ErrorCode;
  /** Response headers the error needs (WWW-Authenticate on 401, Retry-After on 429/503). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options);
    this.name = 'ServiceError';
    this.code = code;
    this.headers = options?.headers ?? {};
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: string;
  code?: ErrorCode;
}
