import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { findExecutable, findRepoRoot } from '@tessera/topology';
import { composeCommand } from './compose-command.js';

/**
 * The Sentinel options of the deployments, as their own tools resolve them (no cluster or
 * Docker engine involved): the kustomize component and the Compose override file.
 */
const root = findRepoRoot();
/** A missing tool fails the test with what to install: npm test installs both. */
function kubectl(): string {
  const bin = findExecutable('kubectl');
  if (!bin) throw new Error('kubectl is not installed (npm test installs it through apt: kubernetes-client)');
  return bin;
}
function compose(): { command: string; args: string[] } {
  const found = composeCommand();
  if (typeof found === 'string') throw new Error(found);
  return found;
}

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { replicas?: number };
  data?: Record<string, string>;
}

test('the redis-sentinel kustomize component replaces the single Redis with a primary, a replica and three sentinels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-kustomize-'));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(dir, join(root, 'deploy/k8s'))}\ncomponents:\n  - ${relative(dir, join(root, 'deploy/k8s/components/redis-sentinel'))}\n`,
  );
  const result = spawnSync(kubectl(), ['kustomize', '--load-restrictor=LoadRestrictionsNone', dir], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const docs = parseAllDocuments(result.stdout).map((d) => d.toJS() as Manifest);
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.equal(find('StatefulSet', 'redis'), undefined, 'the single Redis is gone');
  assert.equal(find('Deployment', 'redis'), undefined);
  assert.equal(find('StatefulSet', 'redis-ha')?.spec?.replicas, 2);
  assert.equal(find('StatefulSet', 'redis-sentinel')?.spec?.replicas, 3);
  const env = find('ConfigMap', 'tessera-env')!.data!;
  assert.equal(env.REDIS_SENTINELS!.split(',').length, 3);
  assert.equal(env.REDIS_SENTINEL_NAME, 'tessera');
});

test('docker-compose.sentinel.yml adds a replica and three sentinels, and points the API and the worker at them', () => {
  const secrets = { REDIS_PASSWORD: 'test-redis-password', GRAFANA_ADMIN_PASSWORD: 'test-grafana-password' };
  const { command, args } = compose();
  const result = spawnSync(
    command,
    [...args, '-f', 'docker-compose.gpu.yml', '-f', 'docker-compose.sentinel.yml', 'config'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ...secrets, COMPOSE_PROFILES: '' } },
  );
  assert.equal(result.status, 0, result.stderr);
  const model = parseYaml(result.stdout) as {
    services: Record<string, { environment?: Record<string, string>; command?: string[] }>;
  };
  for (const name of ['redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3'])
    assert.ok(model.services[name], `${name} is a service`);
  assert.match(model.services['redis-replica']!.command!.join(' '), /--replicaof redis 6379/);
  for (const name of ['redis', 'redis-replica'])
    assert.match(
      model.services[name]!.command!.join(' '),
      /--requirepass "\$\$?REDIS_PASSWORD"/,
      `${name} requires the password`,
    );
  for (const name of ['api', 'worker-0']) {
    assert.equal(
      model.services[name]!.environment!.REDIS_SENTINELS,
      'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
    );
    assert.equal(
      model.services[name]!.environment!.REDIS_URL,
      `redis://:${secrets.REDIS_PASSWORD}@redis:6379`,
      "the base file's settings stay",
    );
    assert.equal(model.services[name]!.environment!.REDIS_SENTINEL_PASSWORD, secrets.REDIS_PASSWORD);
  }
});
