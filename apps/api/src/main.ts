import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadApiConfig, redact } from '@tessera/config';
import { loadRepository } from '@tessera/model-repository';
import { createLogger, initTracing, startMetricsServer } from '@tessera/telemetry';
import { createContext } from './context.js';
import { startGrpcServer } from './grpc/server.js';
import { watchRepository } from './oip/repository.js';
import { loadPipelines } from './inference/pipelines.js';
import { createServer } from './server.js';

const config = loadApiConfig();
const logger = createLogger({ service: 'api', level: config.LOG_LEVEL, base: { replica: config.REPLICA_ID } });

async function main(): Promise<void> {
  const tracing = initTracing('tessera-api', config.OTEL_EXPORTER_OTLP_ENDPOINT, {
    'service.instance.id': config.REPLICA_ID,
  });
  const repository = await loadRepository(config.MODEL_REPOSITORY);
  const pipelines = await loadPipelines(config, repository);
  if (!pipelines.has(config.DEFAULT_MODEL) && !repository.get(config.DEFAULT_MODEL)) {
    throw new Error(
      `DEFAULT_MODEL '${config.DEFAULT_MODEL}' is neither a repository model nor a text/image model; known: ${[...pipelines.keys(), ...repository.names()].join(', ')}`,
    );
  }
  const ctx = createContext(config, logger, repository, pipelines);
  let stopping = false;
  // Model load and unload through the repository API reach every replica.
  const stopWatch = await watchRepository(ctx);
  const app = createServer(ctx);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
  });
  server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive_timeout
  // Metrics never share the public port: only Prometheus (and probes) reach this one.
  const metricsServer = await startMetricsServer(
    ctx.metrics.registry,
    config.METRICS_HOST,
    config.METRICS_PORT,
    () => !stopping,
  );
  const metricsPort = (metricsServer.address() as AddressInfo).port;
  logger.info(
    { config: redact(config), models: repository.names(), pipelines: [...pipelines.keys()], metricsPort },
    `api listening on http://${config.HOST}:${config.PORT}; metrics on http://${config.METRICS_HOST}:${metricsPort}/metrics`,
  );
  const grpc = config.GRPC_PORT ? await startGrpcServer(ctx) : undefined;
  if (grpc) logger.info(`gRPC (inference.GRPCInferenceService) listening on ${config.HOST}:${grpc.port}`);

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const force = setTimeout(() => {
      logger.warn('grace period over: closing remaining connections and exiting');
      server.closeAllConnections();
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    force.unref();
    await Promise.all([
      new Promise<void>((resolve) => server.close(() => resolve())),
      grpc?.close(config.SHUTDOWN_GRACE_MS),
    ]);
    server.closeIdleConnections();
    metricsServer.close();
    metricsServer.closeAllConnections();
    stopWatch();
    await ctx.close();
    await tracing.shutdown();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  logger.fatal({ err }, 'api failed to start');
  process.exit(1);
});
