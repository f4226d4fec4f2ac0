#!/usr/bin/env node
// Writes the copies that deploy/k8s/base needs inside its own directory (kustomize loads no file
// from outside a kustomization): the gateway's nginx.conf and the PrometheusRule made from
// deploy/prometheus/rules.yml. Run it after changing either source; npm test checks that the
// copies are current.
//
//   node scripts/sync-deploy.mjs           write the copies
//   node scripts/sync-deploy.mjs --check   exit 1 and name the stale copies, writing nothing

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const BASE = 'deploy/k8s/base';

/** The generated files: path relative to the repository → content. */
export function deployCopies(root = ROOT) {
  const read = (file) => readFileSync(join(root, file), 'utf8');
  const nginx = `# Generated from the repository's nginx.conf by scripts/sync-deploy.mjs; edit that file.\n${read('nginx.conf')}`;
  // rules.yml's own header comment stays there; its `groups:` become the resource's spec.
  const rules = read('deploy/prometheus/rules.yml').split('\n');
  const body = rules.slice(rules.findIndex((l) => l.startsWith('groups:')));
  const rule = [
    '# Generated from deploy/prometheus/rules.yml by scripts/sync-deploy.mjs; edit that file.',
    '# The Prometheus Operator loads it when its ruleSelector matches these labels.',
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: tessera',
    '  labels: { app.kubernetes.io/name: tessera, role: alert-rules }',
    'spec:',
    ...body.map((l) => (l === '' ? '' : `  ${l}`)),
  ].join('\n');
  return { [`${BASE}/nginx.conf`]: nginx, [`${BASE}/prometheus-rule.yaml`]: rule };
}

function main(argv) {
  const { check } = parseArgs({ args: argv, options: { check: { type: 'boolean', default: false } } }).values;
  const stale = [];
  for (const [file, content] of Object.entries(deployCopies())) {
    let current;
    try {
      current = readFileSync(join(ROOT, file), 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    stale.push(file);
    if (!check) writeFileSync(join(ROOT, file), content);
  }
  if (check && stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')}; run node scripts/sync-deploy.mjs\n`);
    process.exit(1);
  }
  if (!check) process.stdout.write(stale.length > 0 ? `wrote ${stale.join(', ')}\n` : 'deploy copies are current\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
