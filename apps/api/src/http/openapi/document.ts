import { z } from 'zod';
import { ErrorBodySchema, ServiceError, statusOf, type ErrorCode } from '@tessera/contract';
import { SESSION_COOKIE } from '../../auth/sessions.js';
import { SERVER_VERSION } from '../../oip/answers.js';
import type { RouteEntry } from '../routes/route-table.js';
import { OPERATIONS, type Answer, type Operation } from './operations.js';
import { ModelParamsSchema } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the REST surface, built from the app's own route table (who may
 * call what) and OPERATIONS (what each route takes and answers, as zod schemas: the same ones
 * the routes validate with). JSON Schema 2020-12 is OpenAPI 3.1's own dialect, so zod's output
 * is used as it is.
 */
type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
const PARAMS = z.toJSONSchema(ModelParamsSchema, { target: 'draft-2020-12' }).properties as Record<string, Json>;

function ref(schema: z.ZodType): Json {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new ServiceError('internal', 'an OpenAPI body or answer schema has no meta id: this is a bug');
  return { $ref: `${COMPONENTS}${id}` };
}

/** Every schema with a meta id, as `components.schemas`. */
function components(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `${COMPONENTS}${id}`,
  });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, id: _meta, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
}

/** `/v2/models/:name` → `/v2/models/{name}`; a mounted handler's `/*` → `/{page}`. */
export function openApiPath(template: string): string {
  return template.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{page}');
}

/** The errors a route can answer: those of its access and path, then its own. */
function errorCodes(route: RouteEntry, op: Operation): ErrorCode[] {
  // A malformed request (percent-encoding, a body that does not parse) is a 400 on any route.
  const codes: ErrorCode[] = ['bad_request'];
  if (route.access !== 'public') codes.push('unauthorized', 'rate_limited', 'internal');
  if (route.access === 'infer' || route.access === 'admin' || route.path.includes(':name')) codes.push('forbidden');
  if (route.path.includes(':name') || route.path === '/predict') codes.push('model_not_found');
  return [...new Set([...codes, ...(op.errors ?? [])])];
}

function answers(route: RouteEntry, op: Operation): Json {
  const out: Record<string, Json> = {};
  const answer = ({ description, schema, type }: Answer): Json =>
    schema
      ? { description, content: { [type ?? 'application/json']: { schema: ref(schema) } } }
      : type
        ? { description, content: { [type]: {} } }
        : { description };
  for (const [status, a] of Object.entries(op.answers)) out[status] = answer(a);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(route, op))
    byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  for (const [status, codes] of byStatus) {
    const error = { schema: ref(ErrorBodySchema) };
    const mine = out[status];
    const description = `Error: ${codes.join(', ')}`;
    // A status both answered and an error (503 of a readiness probe): either body.
    out[status] = mine
      ? {
          description: `${mine.description as string}; or ${description}`,
          content: {
            'application/json': {
              schema: { anyOf: [(mine.content as Record<string, Json>)['application/json']!.schema, error.schema] },
            },
          },
        }
      : { description, content: { 'application/json': error } };
  }
  return out;
}

function operation(route: RouteEntry, op: Operation): Json {
  const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const parameters = [
    ...names.map((name) => ({ name, in: 'path', required: true, schema: PARAMS[name] ?? { type: 'string' } })),
    ...(route.path.endsWith('/*') ? [{ name: 'page', in: 'path', required: true, schema: { type: 'string' } }] : []),
  ];
  const isPublic = route.access === 'public';
  const scope =
    route.access === 'infer' || route.access === 'admin' ? ` Needs a key with the '${route.access}' scope.` : '';
  return {
    operationId: `${route.method === '*' ? 'get' : route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, '')}`,
    summary: op.summary,
    description: isPublic ? 'Public: no key needed.' : `Needs an API key (Authorization: Bearer).${scope}`,
    tags: [op.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.safeParse(undefined).success,
            content: Object.fromEntries(
              (op.bodyTypes ?? ['application/json']).map((t) => [t, { schema: ref(op.body!) }]),
            ),
          },
        }
      : {}),
    responses: answers(route, op),
    ...(isPublic
      ? { security: [] }
      : route.path.startsWith('/admin/')
        ? { security: [{ bearer: [] }, { session: [] }] }
        : {}),
    'x-access': route.access,
  };
}

/** The document for a route table; a route without an entry in OPERATIONS, or the reverse, is a bug. */
export function openApiDocument(routes: readonly RouteEntry[]): Json {
  const keys = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const undocumented = [...keys].filter((k) => !OPERATIONS[k]);
  const stale = Object.keys(OPERATIONS).filter((k) => !keys.has(k));
  if (undocumented.length > 0 || stale.length > 0)
    throw new ServiceError(
      'internal',
      `the OpenAPI operations and the route table disagree (undocumented: ${undocumented.join(', ') || 'none'}; no such route: ${stale.join(', ') || 'none'}): this is a bug`,
    );
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const method = route.method === '*' ? 'get' : route.method.toLowerCase();
    (paths[openApiPath(route.path)] ??= {})[method] = operation(route, OPERATIONS[`${route.method} ${route.path}`]!);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: SERVER_VERSION,
      description:
        'The Open Inference Protocol (KServe v2) REST API with Triton extensions, and /predict. Every route needs an API key unless it says it is public.',
    },
    tags: ['inference', 'models', 'repository', 'health', 'admin', 'docs'].map((name) => ({ name })),
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: components(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (tsk_…), created with `npm run keys -- create`.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: "The dashboard's session, from POST /admin/login.",
        },
      },
    },
  };
}
