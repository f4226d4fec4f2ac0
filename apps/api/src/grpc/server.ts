import * as grpc from '@grpc/grpc-js';
import { inferenceService } from '@tessera/client/grpc';
import type { ApiContext } from '../context.js';
import { PerKeyRateLimit } from '../http/middleware/rate-limit.js';
import { inferenceHandlers, type Malformed } from './service.js';

export interface GrpcServer {
  port: number;
  /** Stops taking calls, lets those in flight finish for up to `graceMs`, then cancels the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * The service's methods with a deserializer that never throws: grpc-js would answer an
 * unreadable message INTERNAL, but it is the client's fault, so the handler answers it
 * INVALID_ARGUMENT (see Malformed).
 */
function tolerantService(): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(inferenceService()).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return method.requestDeserialize(bytes);
          } catch (err) {
            return { malformed: (err as Error).message } satisfies Malformed;
          }
        },
      },
    ]),
  );
}

/** inference.GRPCInferenceService on HOST:GRPC_PORT, beside the replica's HTTP port. */
export async function startGrpcServer(ctx: ApiContext): Promise<GrpcServer> {
  const { config } = ctx;
  // A message over the body limit is refused by grpc-js itself with RESOURCE_EXHAUSTED.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': config.BODY_LIMIT });
  const limiter = PerKeyRateLimit.of(ctx);
  const auth = { keys: ctx.keys, failures: ctx.authFailures, required: config.AUTH, logger: ctx.logger };
  server.addService(tolerantService(), inferenceHandlers({ ctx, auth, limiter }));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.GRPC_PORT}`,
      grpc.ServerCredentials.createInsecure(),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    );
  });
  return {
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
