import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findExecutable, findRepoRoot } from '@tessera/topology';

/** promtool on the shipped files: the scrape config, the alert rules and their unit tests. */
const root = findRepoRoot();
const promtool = (...args: string[]) => {
  const bin = findExecutable('promtool');
  if (!bin) throw new Error('promtool is not installed (npm test installs it through apt: prometheus)');
  return spawnSync(bin, args, { cwd: join(root, 'deploy/prometheus'), encoding: 'utf8' });
};

test('promtool check config: the scrape config and the rule files it loads', () => {
  const result = promtool('check', 'config', 'prometheus.yml');
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS: 9 rules found/);
});

test('promtool test rules: each alert fires on its unit test', () => {
  const result = promtool('test', 'rules', 'rules.test.yml');
  assert.equal(result.status, 0, result.stdout + result.stderr);
  const rules = promtool('check', 'rules', 'rules.yml');
  assert.equal(rules.status, 0, rules.stdout + rules.stderr);
});

test('every alert has a unit test and a runbook section in docs/operations.md', () => {
  const text = (file: string) => readFileSync(join(root, file), 'utf8');
  const alerts = [...text('deploy/prometheus/rules.yml').matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
  assert.ok(alerts.length >= 9);
  const tested = new Set(
    [...text('deploy/prometheus/rules.test.yml').matchAll(/alertname: (\w+)$/gm)].map((m) => m[1]!),
  );
  const runbook = text('docs/operations.md');
  for (const alert of alerts) {
    assert.ok(tested.has(alert), `${alert} has a promtool unit test`);
    assert.match(runbook, new RegExp(`^#### Alert: ${alert}$`, 'm'), `${alert} has a runbook section`);
  }
});
