/** Small fetch helpers for end-to-end tests. */
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

let defaultHeaders: Record<string, string> = {};

/** Sends `Authorization: Bearer <key>` with every later request of this test file that sets none. */
export function authorize(key: string): void {
  defaultHeaders = { authorization: `Bearer ${key}` };
}

/** The Authorization header set by authorize(), for requests made without request(). */
export function currentAuthorization(): string {
  return defaultHeaders.authorization ?? '';
}

export async function request<T = any>(
  url: string,
  init: { method?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const given = Object.keys(init.headers ?? {}).map((k) => k.toLowerCase());
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(defaultHeaders).filter(([k]) => !given.includes(k))),
    ...init.headers,
  };
  let body: string | Buffer | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, {
    method: init.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the body stays undefined and the test reads `text`.
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Sum of a Prometheus metric's samples whose labels include `match`. */
export function metricSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = m[2] ?? '';
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
