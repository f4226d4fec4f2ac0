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

/** The gRPC status codes the service answers with (numbers as in grpc's status.h). */
export const GRPC_CODE = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The same errors over gRPC: the status each code of the table gets there. */
export const GRPC_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: GRPC_CODE.INVALID_ARGUMENT,
  invalid_input: GRPC_CODE.INVALID_ARGUMENT,
  unauthorized: GRPC_CODE.UNAUTHENTICATED,
  forbidden: GRPC_CODE.PERMISSION_DENIED,
  model_not_found: GRPC_CODE.NOT_FOUND,
  not_found: GRPC_CODE.NOT_FOUND,
  // An idempotency key reused for another request: retrying the same call cannot succeed.
  conflict: GRPC_CODE.FAILED_PRECONDITION,
  payload_too_large: GRPC_CODE.RESOURCE_EXHAUSTED,
  uri_too_long: GRPC_CODE.INVALID_ARGUMENT,
  header_too_large: GRPC_CODE.INVALID_ARGUMENT,
  unsupported_media_type: GRPC_CODE.INVALID_ARGUMENT,
  model_rejected_input: GRPC_CODE.INVALID_ARGUMENT,
  overloaded: GRPC_CODE.RESOURCE_EXHAUSTED,
  rate_limited: GRPC_CODE.RESOURCE_EXHAUSTED,
  client_closed_request: GRPC_CODE.CANCELLED,
  internal: GRPC_CODE.INTERNAL,
  inference_failed: GRPC_CODE.INTERNAL,
  out_of_memory: GRPC_CODE.RESOURCE_EXHAUSTED,
  not_ready: GRPC_CODE.UNAVAILABLE,
  timeout: GRPC_CODE.DEADLINE_EXCEEDED,
};

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

  get grpcStatus(): number {
    return GRPC_STATUS[this.code];
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
