import express, { type Express } from 'express';
import type { ApiContext } from './context.js';
import { authentication, refuseOptions } from './http/middleware/access.js';
import { accessLog } from './http/middleware/access-log.js';
import { cors } from './http/middleware/cors.js';
import { BINARY_HEADER } from '@tessera/contract';
import { splitBinaryBody } from './http/middleware/binary-body.js';
import { errorHandler, notFound } from './http/middleware/errors.js';
import { limitJsonDepth } from './http/middleware/json-depth.js';
import { requestId } from './http/middleware/request-id.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { traceRequests } from './http/middleware/trace.js';
import { adminRouter } from './http/routes/admin.js';
import { docsRouter } from './http/routes/docs.js';
import { oipRouter } from './http/routes/oip.js';
import { predictRouter } from './http/routes/predict.js';
import { loginRouter } from './http/routes/login.js';
import { ROUTING } from './http/routes/routing.js';
import { serviceRouter } from './http/routes/service.js';
import { whoamiRouter } from './http/routes/whoami.js';

/** Builds the HTTP app without listening, so tests and main.ts start it the same way. */
export function createServer(ctx: ApiContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.TRUST_PROXY); // exactly the proxy hops in front, never `true`
  app.set('etag', false);
  app.set('case sensitive routing', ROUTING.caseSensitive);
  app.set('strict routing', ROUTING.strict);
  app.use(requestId());
  app.use(traceRequests());
  app.use(
    accessLog(ctx.logger, ctx.metrics, {
      known: (n) => ctx.repository.get(n) !== undefined || ctx.pipelines.has(n),
      defaultModel: ctx.config.DEFAULT_MODEL,
    }),
  );
  app.use(securityHeaders());
  app.use(cors(ctx.config.CORS_ORIGINS)); // preflights carry no key: answered before authentication
  app.use(serviceRouter(ctx)); // the public probes
  app.use(docsRouter()); // the try-it page (its calls send the key the person pastes)
  app.use(loginRouter(ctx)); // and the dashboard's sign-in; nothing else is public
  app.use(authentication(ctx)); // everything below needs a key, checked before any body is read
  app.use(refuseOptions());
  // The binary tensor data extension: a JSON header and raw tensor bytes in one body.
  app.use(express.raw({ type: (req) => req.headers[BINARY_HEADER] !== undefined, limit: ctx.config.BODY_LIMIT }));
  app.use(splitBinaryBody());
  // Any other body is JSON whatever its Content-Type says, as Triton reads it: its Python client
  // sends none, its asyncio client application/octet-stream. A body that does not parse is a 400.
  // Compressed bodies (gzip, deflate, br) are inflated under the same BODY_LIMIT as plain ones.
  app.use(express.json({ limit: ctx.config.BODY_LIMIT, strict: false, type: () => true }));
  app.use(limitJsonDepth());
  app.use(oipRouter(ctx));
  app.use(predictRouter(ctx));
  app.use(adminRouter(ctx));
  app.use(whoamiRouter(ctx));
  app.use(notFound());
  app.use(errorHandler(ctx.logger));
  return app;
}
