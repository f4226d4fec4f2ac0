import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { findExecutable, findRepoRoot } from '@tessera/topology';

interface Service {
  environment?: Record<string, string>;
  deploy?: { resources?: { reservations?: { devices?: unknown[] } } };
}

/** `docker compose config` (the v2 plugin) or docker-compose, as npm test installs it. */
function composeConfig(files: string[]): { services: Record<string, Service> } {
  const root = findRepoRoot();
  const args = files.flatMap((f) => ['-f', join(root, f)]);
  const docker = findExecutable('docker');
  const plugin = docker !== undefined && spawnSync(docker, ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  const command = plugin ? docker! : findExecutable('docker-compose');
  if (command === undefined)
    throw new Error(
      'neither `docker compose` nor docker-compose is installed (npm test installs docker-compose through apt)',
    );
  const result = spawnSync(command, [...(plugin ? ['compose'] : []), ...args, 'config'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, COMPOSE_PROJECT_NAME: 'tessera-pools', REDIS_PASSWORD: 'pw', GRAFANA_ADMIN_PASSWORD: 'pw' },
  });
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
});
