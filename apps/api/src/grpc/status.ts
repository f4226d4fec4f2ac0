import * as grpc from '@grpc/grpc-js';
import { ServiceError } from '@tessera/contract';
import { ERROR_CODE_KEY, HTTP_STATUS_KEY, RETRY_AFTER_KEY } from '@tessera/client/grpc';
import type { Logger } from '@tessera/telemetry';

/**
 * A failed call's status, from the one error table (GRPC_STATUS): the gRPC code, the message,
 * and as metadata the service's error code, its HTTP status and Retry-After, so that a client
 * can tell a rate limit from a queue cap and knows when to retry.
 */
export function statusOf(err: unknown, logger: Logger, requestId: string): Partial<grpc.StatusObject> {
  const known = err instanceof ServiceError ? err : undefined;
  const error =
    known ??
    new ServiceError('internal', 'internal error: this is a bug, the request id is in the logs', { cause: err });
  if (!known) logger.error({ reqId: requestId, err }, 'unhandled error in a gRPC call');
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_KEY, error.code);
  metadata.set(HTTP_STATUS_KEY, String(error.status));
  const retryAfter = error.headers['Retry-After'];
  if (retryAfter !== undefined) metadata.set(RETRY_AFTER_KEY, retryAfter);
  metadata.set('x-request-id', requestId);
  return { code: error.grpcStatus, details: error.message, metadata };
}

/** The message of a status on a stream, where only a message travels: "[429 rate_limited] …". */
export function streamErrorMessage(status: Partial<grpc.StatusObject>): string {
  const code = status.metadata?.get(ERROR_CODE_KEY)[0];
  const http = status.metadata?.get(HTTP_STATUS_KEY)[0];
  return `[${http} ${code}] ${status.details}`;
}
