import type { Express } from 'express';
import { accessOf, type Access } from './routing.js';

/**
 * Every route the app answers, read from Express's own router stack rather than from a list
 * kept by hand, with the access its guard grants. `open` marks a route that is neither declared
 * public nor behind authentication: a bug the route-table test fails on.
 */
export interface RouteEntry {
  /** Upper-case HTTP method, or `*` for a mounted handler (all methods, every path below). */
  method: string;
  /** The template as registered, prefixes included (`/v2/models/:name/infer`, `/admin/queues/*`). */
  path: string;
  access: Access | 'open';
}

/** Marks the app-level authentication middleware: every route after it needs a key. */
export const AUTHENTICATES = Symbol('tessera.authenticates');

interface LayerLike {
  handle: { stack?: LayerLike[]; [AUTHENTICATES]?: boolean };
  route?: { path: string; methods: Record<string, boolean>; stack: LayerLike[] };
  rawPath?: unknown;
}

const join = (prefix: string, path: string) => (path === '/' && prefix ? prefix : `${prefix}${path}`);

function walk(stack: readonly LayerLike[], prefix: string, inherited: Access | 'open', out: RouteEntry[]): void {
  let access = inherited;
  const mounted = new Map<string, Access>();
  for (const layer of stack) {
    const raw = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
    if (layer.route) {
      const guard = layer.route.stack.map((l) => accessOf(l.handle)).find((a) => a !== undefined);
      const methods = Object.keys(layer.route.methods).map((m) => (m === '_all' ? '*' : m.toUpperCase()));
      for (const method of methods) out.push({ method, path: join(prefix, layer.route.path), access: guard ?? access });
      continue;
    }
    if (layer.handle[AUTHENTICATES]) {
      access = 'key';
      continue;
    }
    const tag = accessOf(layer.handle);
    if (layer.handle.stack) {
      walk(layer.handle.stack, join(prefix, raw === '/' ? '' : raw), tag ?? mounted.get(raw) ?? access, out);
    } else if (tag) {
      mounted.set(raw, tag);
    } else if (raw !== '/') {
      out.push({ method: '*', path: `${join(prefix, raw)}/*`, access: mounted.get(raw) ?? access });
    }
  }
}

export function routeTable(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '', 'open', out);
  // A mounted handler's entry comes once per layer; one per path and method is enough.
  const seen = new Set<string>();
  return out.filter((e) => !seen.has(`${e.method} ${e.path}`) && seen.add(`${e.method} ${e.path}`));
}
