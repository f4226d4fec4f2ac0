import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { API_NODE_FLAGS, findExecutable, findRepoRoot, NGINX_PLACEHOLDERS } from '@tessera/topology';

/**
 * docker-compose.gpu.yml as Docker Compose reads it. No Docker engine is needed: `config` only
 * parses, validates and resolves the file on the client.
 */
const root = findRepoRoot();
const composeFile = join(root, 'docker-compose.gpu.yml');

/**
 * How to run Compose here: the v2 plugin (`docker compose`, JSON output) or the standalone
 * docker-compose that `npm test` installs from Debian where the plugin is missing (YAML output).
 */
function composeCommand(): { command: string; args: string[]; json: boolean } | string {
  const docker = findExecutable('docker');
  if (docker) {
    if (spawnSync(docker, ['compose', 'version'], { stdio: 'ignore' }).status === 0) return { command: docker, args: ['compose'], json: true };
  }
  const standalone = findExecutable('docker-compose');
  if (standalone) {
    const version = spawnSync(standalone, ['version', '--short'], { encoding: 'utf8' });
    if (version.status === 0) return { command: standalone, args: [], json: /^v?2\./.test(version.stdout.trim()) };
  }
  return 'neither `docker compose` nor docker-compose is installed (npm test installs docker-compose through apt)';
}

/** Compose v1 prints short volume syntax; the checks read the long form. */
function longVolume(v: ComposeVolume | string): ComposeVolume {
  if (typeof v !== 'string') return v;
  const [source, target, mode] = v.split(':') as [string, string, string?];
  return { type: source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume', source, target, read_only: mode === 'ro' };
}

interface ComposeVolume {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
}

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  environment?: Record<string, string | null>;
  deploy?: { replicas?: number; resources?: { reservations?: { devices?: { driver?: string; count?: number | string; capabilities?: string[] }[] } } };
  volumes?: (ComposeVolume | string)[];
  ports?: { target: number; published?: string | number }[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}

interface ComposeModel {
  name?: string;
  services: Record<string, ComposeService>;
}

const compose = composeCommand();


describe('docker-compose.gpu.yml through `docker compose config`', () => {
  const load = (): ComposeModel => {
    if (typeof compose === 'string') throw new Error(compose);
    const result = spawnSync(compose.command, [...compose.args, '-f', composeFile, '--profile', 'observability', 'config', ...(compose.json ? ['--format', 'json'] : [])], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, COMPOSE_PROFILES: '' },
    });
    assert.equal(result.status, 0, `docker compose config failed:\n${result.stderr}`);
    return (compose.json ? JSON.parse(result.stdout) : parseYaml(result.stdout)) as ComposeModel;
  };

  test('is valid and has redis, models, api, worker, nginx and the observability profile', () => {
    const model = load();
    for (const name of ['redis', 'models', 'api', 'worker', 'nginx', 'prometheus', 'grafana']) assert.ok(model.services[name], `service ${name}`);
    assert.deepEqual(model.services.prometheus!.profiles, ['observability']);
    assert.deepEqual(model.services.grafana!.profiles, ['observability']);
  });

  test('runs three API replicas behind nginx on 8080', () => {
    const { api, nginx } = load().services;
    assert.equal(api!.deploy?.replicas, 3);
    assert.ok(api!.build?.dockerfile.endsWith('deploy/docker/api.Dockerfile'), api!.build?.dockerfile);
    assert.ok(nginx!.ports?.some((p) => p.target === 8080 && String(p.published) === '8080'), 'nginx publishes 8080:8080');
    assert.equal(api!.depends_on?.models?.condition, 'service_completed_successfully');
  });

  test('reserves one NVIDIA GPU for the worker, which runs on CUDA', () => {
    const { worker } = load().services;
    const devices = worker!.deploy?.resources?.reservations?.devices ?? [];
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!.driver, 'nvidia');
    assert.equal(Number(devices[0]!.count), 1);
    assert.deepEqual(devices[0]!.capabilities, ['gpu']);
    assert.equal(worker!.environment?.DEVICE, 'cuda');
    assert.ok(worker!.environment?.CUDA_DEVICE_ID !== undefined, 'CUDA_DEVICE_ID is set');
    assert.ok(worker!.build?.dockerfile.endsWith('deploy/docker/worker.Dockerfile'), worker!.build?.dockerfile);
  });

  test('nginx renders the repository nginx.conf through the image templates', () => {
    const { nginx } = load().services;
    const mount = nginx!.volumes?.map(longVolume).find((v) => v.target === '/etc/nginx/templates/nginx.conf.template');
    assert.ok(mount, 'nginx.conf is mounted as a template');
    assert.equal(mount.type, 'bind');
    assert.equal(mount.source, join(root, 'nginx.conf'));
    assert.equal(nginx!.environment?.NGINX_ENVSUBST_OUTPUT_DIR, '/etc/nginx');
    for (const name of NGINX_PLACEHOLDERS) assert.ok(nginx!.environment?.[name], `nginx sets ${name}`);
    assert.match(nginx!.environment!.API_UPSTREAMS!, /server api:3000\b/);
  });
});

describe('deployment files agree with each other', () => {
  const text = (file: string): string => readFileSync(join(root, file), 'utf8');

  test('compose and Kubernetes give every nginx.conf placeholder a value', () => {
    const composeText = text('docker-compose.gpu.yml');
    const k8s = text('deploy/k8s/nginx.yaml');
    for (const name of NGINX_PLACEHOLDERS) {
      assert.match(composeText, new RegExp(`^\\s+${name}: \\S`, 'm'), `compose sets ${name}`);
      assert.match(k8s, new RegExp(`name: ${name}, value: `), `k8s sets ${name}`);
    }
    assert.match(composeText, /\.\/nginx\.conf:\/etc\/nginx\/templates\/nginx\.conf\.template/);
    assert.match(text('deploy/k8s/kustomization.yaml'), /nginx\.conf\.template=\.\.\/\.\.\/nginx\.conf/);
  });

  test('the files the compose file and the images refer to exist', () => {
    for (const file of [
      'nginx.conf',
      'deploy/docker/api.Dockerfile',
      'deploy/docker/worker.Dockerfile',
      'deploy/prometheus/prometheus.yml',
      'deploy/grafana/dashboards/tessera.json',
      'deploy/grafana/provisioning/datasources/prometheus.yml',
      'deploy/grafana/provisioning/dashboards/tessera.yml',
      'deploy/k8s/kustomization.yaml',
    ]) {
      assert.ok(existsSync(join(root, file)), file);
    }
    const dashboard = JSON.parse(text('deploy/grafana/dashboards/tessera.json')) as { panels: { title: string }[] };
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const word of ['queue depth', 'items in flight', 'batch size', 'p50', 'p99', 'out-of-memory', 'provider']) assert.ok(titles.includes(word), `dashboard shows ${word}`);
  });

  test('the API image runs its replicas with the V8 flags of the local topology', () => {
    // The last stage's CMD is the image's.
    const cmd = [...text('deploy/docker/api.Dockerfile').matchAll(/^CMD (\[.*\])$/gm)].pop()?.[1];
    assert.ok(cmd, 'the API image has an exec-form CMD');
    assert.deepEqual(JSON.parse(cmd), ['node', ...API_NODE_FLAGS, 'dist/main.js']);
  });

  test('the worker image is a CUDA 12 + cuDNN 9 runtime, as onnxruntime-node 1.29 requires', () => {
    const dockerfile = text('deploy/docker/worker.Dockerfile');
    assert.match(dockerfile, /^ARG CUDA_IMAGE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu\d+\.\d+$/m);
    assert.match(dockerfile, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(text('deploy/k8s/worker.yaml'), /nvidia\.com\/gpu: 1/);
  });
});
