/** A concrete path for a route template: parameters filled in, a mounted prefix's root and one path below it. */
export function concretePaths(template: string, params: Record<string, string>): string[] {
  const filled = template.replace(/:(\w+)/g, (_, name: string) => params[name] ?? params.default ?? 'x');
  if (!filled.endsWith('/*')) return [filled];
  const root = filled.slice(0, -2);
  return [`${root}/`, `${root}/api/queues`];
}

const encodeChar = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Other spellings of a path, each of which a careless router or proxy might take for the same
 * route: case, trailing and doubled slashes, percent-encoded letters and slashes, `;` parameters.
 */
export function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const mixed = [...path].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('');
  const out = [
    path.toUpperCase(),
    mixed,
    path.endsWith('/') ? path.slice(0, -1) : `${path}/`,
    `/${path}`,
    path.replace(/\/([^/]*)$/, '//$1'),
    `/${segments.map((s) => (s ? encodeChar(s[0]!) + s.slice(1) : s)).join('/')}`,
    `/${segments.map((s) => s.replace(/[a-z]/g, encodeChar)).join('/')}`,
    `/${segments.join('%2F')}`,
    `/${segments.join('%2f')}`,
    `${path};x=1`,
    `/${segments[0]};a=b/${segments.slice(1).join('/')}`,
  ];
  return [...new Set(out)].filter((p) => p !== path);
}
