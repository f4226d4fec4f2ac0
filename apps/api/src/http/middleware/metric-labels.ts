import type { Request } from 'express';

/** Routes the orchestrator and Prometheus call: not traffic, so not in the HTTP metrics. */
const UNCOUNTED_ROUTES = new Set(['/live', '/ready', '/health', '/metrics', '/v2/health/live', '/v2/health/ready']);

export function isCountedRoute(route: string): boolean {
  return !UNCOUNTED_ROUTES.has(route);
}

/**
 * The `model` label of a request's HTTP metrics: the `:name` of the OIP routes, the body's
 * `model` of /predict (the default model without one), '' for routes about no model. Only names
 * the service knows become label values, so no request can add a time series.
 */
export function modelLabel(
  req: Request,
  route: string,
  known: (name: string) => boolean,
  defaultModel: string,
): string {
  // Express resets req.params when a handler fails; the path still has the name.
  const fromPath =
    (req.params as Record<string, string | undefined> | undefined)?.name ??
    (route.includes('/:name') ? /^\/v2\/models\/([^/]+)/.exec(req.path)?.[1] : undefined);
  const fromBody =
    route === '/predict' ? ((req.body as { model?: unknown } | undefined)?.model ?? defaultModel) : undefined;
  const name = fromPath ?? fromBody;
  if (name === undefined) return '';
  return typeof name === 'string' && known(name) ? name : 'unknown';
}
