import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { findExecutable, findRepoRoot } from '@tessera/topology';
import { find, root, schemaErrors, type K8sObject } from './k8s-manifests.js';

interface Service {
  environment?: Record<string, string>;
  networks?: Record<string, { aliases?: string[] } | null>;
  deploy?: { resources?: { reservations?: { devices?: unknown[] } } };
}

/** `docker compose config` (the v2 plugin) or docker-compose, as npm test installs it. */
function composeConfig(files: string[]): { services: Record<string, Service> } {
  const root = findRepoRoot();
  const args = files.flatMap((f) => ['-f', join(root, f)]);
  const docker = findExecutable('docker');
  const plugin = docker !== undefined && spawnSync(docker, ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  const command = plugin ? docker! : findExecutable('docker-compose');
  if (command === undefined) throw new Error('neither `docker compose` nor docker-compose is installed (npm test installs docker-compose through apt)');
  const result = spawnSync(command, [...(plugin ? ['compose'] : []), ...args, 'config'], { cwd: root, encoding: 'utf8', env: { ...process.env, COMPOSE_PROJECT_NAME: 'tessera-pools', REDIS_PASSWORD: 'test-redis-password', GRAFANA_ADMIN_PASSWORD: 'test-grafana-password' } });
  assert.equal(result.status, 0, `compose config failed:\n${result.stderr}`);
  return parseYaml(result.stdout) as { services: Record<string, Service> };
}

test('the pools override splits the models between a GPU worker and a CPU worker, each on its own', () => {
  const { services } = composeConfig(['docker-compose.gpu.yml', 'deploy/pools/docker-compose.pools.yml']);
  const heavy = services['worker-0']!;
  const small = services['worker-small']!;
  const models = (s: Service) => (s.environment?.MODELS ?? '').split(',');
  assert.deepEqual(models(heavy), ['ocr-det', 'ocr-cls', 'ocr-rec']);
  assert.deepEqual(models(small), ['lid176', 'affine']);
  assert.equal(small.environment?.DEVICE, 'cpu');
  assert.equal(small.deploy?.resources?.reservations?.devices, undefined, 'the small pool takes no GPU');
  assert.ok(heavy.deploy?.resources?.reservations?.devices?.length, 'the heavy pool keeps its GPU');
  assert.equal(small.environment?.REDIS_URL, heavy.environment?.REDIS_URL, 'both pools drain the same Redis');
  assert.ok(small.networks?.default?.aliases?.includes('worker'), 'Prometheus finds the small pool under the name `worker`');
});

test('the Kubernetes pools overlay: two worker Deployments on disjoint models, each scaled on its own queues and let through to Redis', async () => {
  const kubectl = findExecutable('kubectl');
  if (kubectl === undefined) throw new Error('kubectl is not installed (npm test installs it through apt: kubernetes-client)');
  // The small pool is built from the base's worker files, which lie outside the overlay.
  const result = spawnSync(kubectl, ['kustomize', '--load-restrictor=LoadRestrictionsNone', join(root, 'deploy/pools/k8s')], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  assert.equal(result.status, 0, result.stderr);
  const objects = parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject).filter(Boolean);
  const env = (name: string) => Object.fromEntries((find(objects, 'Deployment', name).spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  assert.equal(env('worker').MODELS, 'ocr-det,ocr-cls,ocr-rec');
  assert.equal(env('worker-small').MODELS, 'lid176,affine');
  assert.equal(env('worker-small').DEVICE, 'cpu');
  assert.deepEqual(find(objects, 'Deployment', 'worker-small').spec.selector.matchLabels, { 'app.kubernetes.io/name': 'worker-small' });
  assert.equal(find(objects, 'ScaledObject', 'worker-small').spec.scaleTargetRef.name, 'worker-small');
  assert.match(find(objects, 'ScaledObject', 'worker-small').spec.triggers[0].metadata.query, /model=~"lid176\|affine"/);
  assert.match(find(objects, 'ScaledObject', 'worker').spec.triggers[0].metadata.query, /model=~"ocr-det\|ocr-cls\|ocr-rec"/);
  assert.ok(find(objects, 'NetworkPolicy', 'redis').spec.ingress[0].from[0].podSelector.matchExpressions[0].values.includes('worker-small'));
  for (const o of objects.filter((x) => x.metadata.name.startsWith('worker') || x.kind === 'NetworkPolicy' || x.kind === 'PodMonitor')) {
    assert.deepEqual(await schemaErrors(o), []);
  }
});
