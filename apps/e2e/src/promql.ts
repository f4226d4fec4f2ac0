import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface NamedQuery {
  /** Where the expression comes from, e.g. `dashboard: Queue depth (jobs by state)`. */
  source: string;
  expr: string;
}

/**
 * An alert's expression with every comparison turned into its `bool` form (`x > 0` becomes
 * `x > bool 0`), so that it returns its signal (0 or 1 per series) even while the alert does not
 * fire. Label matchers (`{status!="200"}`) and strings are left alone.
 */
export function withBoolComparisons(expr: string): string {
  let out = '';
  let braces = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += expr[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    if (c === '{') braces++;
    if (c === '}') braces--;
    const op = braces === 0 ? /^(==|!=|>=|<=|>|<)/.exec(expr.slice(i))?.[1] : undefined;
    if (!op) {
      out += c;
      continue;
    }
    out += op;
    i += op.length - 1;
    if (!/^\s*bool\b/.test(expr.slice(i + 1))) out += ' bool';
  }
  return out;
}

/** Grafana's variables as a query run by hand sees them: every model, a rate window of `window`. */
function grafanaVariables(expr: string, window: string): string {
  return expr.replaceAll('$__rate_interval', window).replaceAll('$model', '.*');
}

export function dashboardQueries(root: string, window = '1m'): NamedQuery[] {
  const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/dashboards/tessera.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ source: `dashboard: ${p.title}`, expr: grafanaVariables(t.expr, window) })),
  );
}

export function ruleQueries(root: string): NamedQuery[] {
  const rules = parseYaml(readFileSync(join(root, 'deploy/prometheus/rules.yml'), 'utf8')) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ source: `rule: ${r.alert ?? r.record}`, expr: withBoolComparisons(r.expr) })),
  );
}

export function scaledObjectQueries(root: string): NamedQuery[] {
  const scaled = parseYaml(readFileSync(join(root, 'deploy/k8s/base/keda-scaledobject.yaml'), 'utf8')) as {
    spec: { triggers: { type: string; metadata: { query?: string } }[] };
  };
  return scaled.spec.triggers
    .filter((t) => t.type === 'prometheus')
    .map((t) => ({ source: 'ScaledObject worker', expr: t.metadata.query! }));
}
