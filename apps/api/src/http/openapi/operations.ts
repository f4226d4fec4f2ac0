import type { z } from 'zod';
import {
  InferenceRequestSchema,
  InferenceResponseSchema,
  ModelMetadataResponseSchema,
  ServerMetadataResponseSchema,
  type ErrorCode,
} from '@tessera/contract';
import {
  EmptyObjectSchema,
  HealthSchema,
  LiveSchema,
  LoginRequestSchema,
  ModelConfigSchema,
  ModelReadySchema,
  OipReadySchema,
  PredictRequestSchema,
  PredictResponseSchema,
  QueueStatusSchema,
  ReadinessSchema,
  RepositoryIndexRequestSchema,
  RepositoryIndexSchema,
  RepositoryModelRequestSchema,
  StatisticsSchema,
  WhoamiSchema,
} from './schemas.js';

/** One answer of an operation: a JSON schema, or another media type (pages, scripts). */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  type?: string;
}

/** What the document says about one route of the route table. */
export interface Operation {
  summary: string;
  tag: 'health' | 'inference' | 'models' | 'repository' | 'admin' | 'docs';
  body?: z.ZodType;
  /** The body's media type when it is not only JSON. */
  bodyTypes?: string[];
  answers: Record<number, Answer>;
  /** Error codes of this route beyond those its access and path imply (see errorCodes()). */
  errors?: ErrorCode[];
}

const json = (description: string, schema: z.ZodType): Answer => ({ description, schema });
const ok = (schema: z.ZodType, description = 'OK'): Record<number, Answer> => ({ 200: json(description, schema) });
const page = (description: string, type = 'text/html'): Record<number, Answer> => ({ 200: { description, type } });

const INFER_ERRORS: ErrorCode[] = [
  'bad_request',
  'invalid_input',
  'conflict',
  'payload_too_large',
  'model_rejected_input',
  'overloaded',
  'inference_failed',
  'out_of_memory',
  'not_ready',
  'timeout',
];

const metadata: Operation = { summary: 'Model metadata', tag: 'models', answers: ok(ModelMetadataResponseSchema) };
const modelReady: Operation = {
  summary: 'Model ready',
  tag: 'health',
  answers: { 200: json('Ready', ModelReadySchema), 503: json('No live worker serves the model', ModelReadySchema) },
};
const infer: Operation = {
  summary: 'Inference',
  tag: 'inference',
  body: InferenceRequestSchema,
  bodyTypes: ['application/json', 'application/octet-stream'],
  answers: {
    200: {
      description:
        'The inference response; with binary outputs, application/octet-stream: this JSON (Inference-Header-Content-Length bytes) and the raw tensor bytes.',
      schema: InferenceResponseSchema,
    },
  },
  errors: INFER_ERRORS,
};
const statistics: Operation = { summary: 'Model statistics', tag: 'models', answers: ok(StatisticsSchema) };
const config: Operation = { summary: 'Model configuration', tag: 'models', answers: ok(ModelConfigSchema) };
const queueAction = (what: string): Operation => ({
  summary: `${what} the model's queue`,
  tag: 'admin',
  answers: ok(QueueStatusSchema),
  errors: ['not_ready'],
});
const readiness: Record<number, Answer> = {
  200: json('Ready', ReadinessSchema),
  503: json('Redis is unreachable', ReadinessSchema),
};

/**
 * Every route of the route table (route-table.ts), by method and template as registered. The
 * document is built from this and the route table together: a route missing here, or an entry
 * here for no route, fails the build of the document (and its test).
 */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'GET /live': { summary: 'Liveness probe', tag: 'health', answers: ok(LiveSchema) },
  'GET /ready': { summary: 'Readiness probe: Redis answers', tag: 'health', answers: readiness },
  'GET /health': {
    summary: 'Readiness with the live workers, their models and providers',
    tag: 'health',
    answers: { 200: json('OK', HealthSchema), 503: json('Redis is unreachable', HealthSchema) },
  },
  'GET /v2/health/live': { summary: 'Server live', tag: 'health', answers: ok(LiveSchema) },
  'GET /v2/health/ready': {
    summary: 'Server ready',
    tag: 'health',
    answers: { 200: json('Ready', OipReadySchema), 503: json('Redis is unreachable', OipReadySchema) },
  },
  'GET /v2/openapi.json': { summary: 'This document', tag: 'docs', answers: page('OpenAPI 3.1', 'application/json') },
  'GET /docs': { summary: 'Interactive API page (Swagger UI)', tag: 'docs', answers: page('HTML') },
  'GET /docs/swagger-ui.css': { summary: 'Swagger UI style', tag: 'docs', answers: page('CSS', 'text/css') },
  'GET /docs/swagger-ui-bundle.js': { summary: 'Swagger UI', tag: 'docs', answers: page('Script', 'text/javascript') },
  'GET /docs/swagger-init.js': {
    summary: 'Swagger UI set-up',
    tag: 'docs',
    answers: page('Script', 'text/javascript'),
  },
  'GET /docs/try': {
    summary: 'Try-it page: /predict on texts or an uploaded image',
    tag: 'docs',
    answers: page('HTML'),
  },
  'GET /docs/try.js': { summary: "Try-it page's script", tag: 'docs', answers: page('Script', 'text/javascript') },
  'GET /admin/login': { summary: 'Dashboard sign-in page', tag: 'admin', answers: page('HTML') },
  'POST /admin/login': {
    summary: 'Trade an admin key for a dashboard session cookie',
    tag: 'admin',
    body: LoginRequestSchema,
    bodyTypes: ['application/x-www-form-urlencoded', 'application/json'],
    answers: { 303: { description: 'Signed in: the session cookie is set, on to /admin/queues/' } },
    errors: ['bad_request', 'unauthorized', 'forbidden', 'rate_limited'],
  },
  'GET /v2': { summary: 'Server metadata', tag: 'models', answers: ok(ServerMetadataResponseSchema) },
  'GET /v2/models/stats': statistics,
  'GET /v2/models/:name/stats': statistics,
  'GET /v2/models/:name/versions/:version/stats': statistics,
  'GET /v2/models/:name': metadata,
  'GET /v2/models/:name/versions/:version': metadata,
  'GET /v2/models/:name/ready': modelReady,
  'GET /v2/models/:name/versions/:version/ready': modelReady,
  'POST /v2/models/:name/infer': infer,
  'POST /v2/models/:name/versions/:version/infer': infer,
  'POST /v2/repository/index': {
    summary: 'Every model version and its state',
    tag: 'repository',
    body: RepositoryIndexRequestSchema,
    answers: ok(RepositoryIndexSchema),
    errors: ['bad_request'],
  },
  'POST /v2/repository/models/:name/load': {
    summary: 'Load a model (admin scope too)',
    tag: 'repository',
    body: RepositoryModelRequestSchema,
    answers: ok(EmptyObjectSchema),
    errors: ['bad_request', 'not_ready'],
  },
  'POST /v2/repository/models/:name/unload': {
    summary: 'Unload a model (admin scope too)',
    tag: 'repository',
    body: RepositoryModelRequestSchema,
    answers: ok(EmptyObjectSchema),
    errors: ['bad_request', 'not_ready'],
  },
  'GET /v2/models/:name/config': config,
  'GET /v2/models/:name/versions/:version/config': config,
  'POST /predict': {
    summary: 'Run a pipeline on texts or images, or a tensor model on the shorthand',
    tag: 'inference',
    body: PredictRequestSchema,
    answers: ok(PredictResponseSchema, 'One result per item, with the timings'),
    errors: [...INFER_ERRORS, 'model_not_found'],
  },
  'GET /admin/models/:name': {
    summary: "The model's queue",
    tag: 'admin',
    answers: ok(QueueStatusSchema),
    errors: ['not_ready'],
  },
  'POST /admin/models/:name/pause': queueAction('Pause'),
  'POST /admin/models/:name/resume': queueAction('Resume'),
  'POST /admin/models/:name/drain': queueAction('Drain'),
  'POST /admin/logout': {
    summary: 'End the dashboard session',
    tag: 'admin',
    answers: { 204: { description: 'Signed out' } },
  },
  '* /admin/queues/*': {
    summary: 'Queue dashboard (bull-board; an admin key or the session cookie)',
    tag: 'admin',
    answers: page('The dashboard and its assets'),
  },
  'GET /whoami': {
    summary: 'The caller as the server sees it (any valid key)',
    tag: 'admin',
    answers: ok(WhoamiSchema),
  },
};
