import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ApiContext } from './context.js';
import { accessControl } from './middleware/access.js';
import { accessLog } from './middleware/access-log.js';
import { BINARY_HEADER } from '@tessera/contract';
import { splitBinaryBody } from './middleware/binary-body.js';
import { errorHandler, notFound, requireJson } from './middleware/errors.js';
import { requestId } from './middleware/request-id.js';
import { traceRequests } from './middleware/trace.js';
import { adminRouter } from './routes/admin.js';
import { oipRouter } from './routes/oip.js';
import { predictRouter } from './routes/predict.js';
import { serviceRouter } from './routes/service.js';

/** Builds the HTTP app without listening, so tests and main.ts start it the same way. */
export function createServer(ctx: ApiContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.TRUST_PROXY); // exactly the proxy hops in front, never `true`
  app.set('etag', false);
  app.use(requestId());
  app.use(traceRequests());
  app.use(accessLog(ctx.logger, ctx.metrics, { known: (n) => ctx.repository.get(n) !== undefined || ctx.pipelines.has(n), defaultModel: ctx.config.DEFAULT_MODEL }));
  app.use(helmet());
  app.use(accessControl(ctx)); // before any body is read
  app.use(requireJson());
  // The binary tensor data extension: a JSON header and raw tensor bytes in one body.
  app.use(express.raw({ type: (req) => req.headers[BINARY_HEADER] !== undefined, limit: ctx.config.BODY_LIMIT }));
  app.use(splitBinaryBody());
  app.use(express.json({ limit: ctx.config.BODY_LIMIT, strict: false }));
  app.use(serviceRouter(ctx));
  app.use(oipRouter(ctx));
  app.use(predictRouter(ctx));
  app.use(adminRouter(ctx));
  app.use(notFound());
  app.use(errorHandler(ctx.logger));
  return app;
}
