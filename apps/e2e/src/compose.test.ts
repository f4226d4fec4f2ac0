import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadApiConfig, loadWorkerConfig } from '@tessera/config';
import { API_NODE_FLAGS, findRepoRoot, NGINX_PLACEHOLDERS } from '@tessera/topology';
import { composeCommand } from './compose-command.js';

/**
 * docker-compose.gpu.yml as Docker Compose reads it. No Docker engine is needed: `config` only
 * parses, validates and resolves the file on the client.
 */
const root = findRepoRoot();
const composeFile = join(root, 'docker-compose.gpu.yml');

/** Compose v1 prints short volume syntax; the checks read the long form. */
function longVolume(v: ComposeVolume | string): ComposeVolume {
  if (typeof v !== 'string') return v;
  const [source, target, mode] = v.split(':') as [string, string, string?];
  return {
    type: source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume',
    source,
    target,
    read_only: mode === 'ro',
  };
}

/** A published port in either syntax: "127.0.0.1:9090:9090/tcp" or { host_ip, published, target }. */
function longPort(p: ComposePort | string): ComposePort {
  if (typeof p !== 'string') return p;
  const parts = p.replace(/\/\w+$/, '').split(':');
  const target = Number(parts.pop());
  const published = parts.pop();
  return { target, ...(published !== undefined ? { published } : {}), ...(parts[0] ? { host_ip: parts[0] } : {}) };
}

interface ComposePort {
  target: number;
  published?: string | number;
  host_ip?: string;
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
  deploy?: {
    replicas?: number;
    resources?: {
      reservations?: {
        devices?: { driver?: string; count?: number | string; device_ids?: string[]; capabilities?: string[] }[];
      };
    };
  };
  networks?: Record<string, { aliases?: string[] } | null>;
  command?: string[];
  volumes?: (ComposeVolume | string)[];
  ports?: (ComposePort | string)[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}

interface ComposeModel {
  name?: string;
  services: Record<string, ComposeService>;
}

const compose = composeCommand();

/** What .env provides in production; the test's own values. */
const SECRETS = { REDIS_PASSWORD: 'test-redis-password', GRAFANA_ADMIN_PASSWORD: 'test-grafana-password' };

/** An empty env file: a developer's own .env must not change the outcome. */
const noEnvFile = join(mkdtempSync(join(tmpdir(), 'tessera-compose-')), 'empty.env');
writeFileSync(noEnvFile, '');

function runConfig(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  if (typeof compose === 'string') throw new Error(compose);
  // Only the variables given: the shell's must not change the outcome either.
  return spawnSync(
    compose.command,
    [
      ...compose.args,
      '-f',
      composeFile,
      '--env-file',
      noEnvFile,
      '--profile',
      'observability',
      'config',
      ...(compose.json ? ['--format', 'json'] : []),
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', COMPOSE_PROFILES: '', ...env },
    },
  );
}

/** Services that run under the given profiles (those without profiles always do). */
function active(model: ComposeModel, profiles: string[]): string[] {
  return Object.entries(model.services)
    .filter(([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name)
    .sort();
}

describe('docker-compose.gpu.yml through `docker compose config`', () => {
  // `config` takes seconds with the standalone client: run it once.
  let loaded: ComposeModel | undefined;
  const load = (): ComposeModel => {
    if (loaded) return loaded;
    const result = runConfig(SECRETS);
    assert.equal(result.status, 0, `docker compose config failed:\n${result.stderr}`);
    loaded = (
      typeof compose !== 'string' && compose.json ? JSON.parse(result.stdout) : parseYaml(result.stdout)
    ) as ComposeModel;
    return loaded;
  };

  test('is valid and has redis, models, api, worker, nginx and the observability profile', () => {
    const model = load();
    for (const name of ['redis', 'models', 'api', 'worker-0', 'nginx', 'prometheus', 'grafana'])
      assert.ok(model.services[name], `service ${name}`);
    assert.deepEqual(model.services.prometheus!.profiles, ['observability']);
    assert.deepEqual(model.services.grafana!.profiles, ['observability']);
  });

  test('runs three API replicas behind nginx on 8080', () => {
    const { api, nginx } = load().services;
    assert.equal(api!.deploy?.replicas, 3);
    assert.ok(api!.build?.dockerfile.endsWith('deploy/docker/api.Dockerfile'), api!.build?.dockerfile);
    assert.ok(
      nginx!.ports?.map(longPort).some((p) => p.target === 8080 && String(p.published) === '8080'),
      'nginx publishes 8080:8080',
    );
    assert.equal(api!.depends_on?.models?.condition, 'service_completed_successfully');
  });

  test('one worker per GPU: worker-N has GPU N, and the gpus-N profiles add them', () => {
    const model = load();
    const workers = (profiles: string[]) => active(model, profiles).filter((n) => n.startsWith('worker-'));
    assert.deepEqual(workers([]), ['worker-0']);
    assert.deepEqual(workers(['gpus-2']), ['worker-0', 'worker-1']);
    assert.deepEqual(workers(['gpus-4']), ['worker-0', 'worker-1', 'worker-2', 'worker-3']);
    assert.equal(workers(['gpus-8']).length, 8);
    for (const name of workers(['gpus-8'])) {
      const worker = model.services[name]!;
      const devices = worker.deploy?.resources?.reservations?.devices ?? [];
      assert.equal(devices.length, 1, name);
      assert.equal(devices[0]!.driver, 'nvidia');
      assert.deepEqual(devices[0]!.device_ids, [name.slice('worker-'.length)], `${name} has its own GPU`);
      assert.equal(devices[0]!.count, undefined, `${name}: count would pick GPU 0 for every copy`);
      assert.deepEqual(devices[0]!.capabilities, ['gpu']);
      assert.equal(worker.environment?.DEVICE, 'cuda');
      assert.equal(worker.environment?.WORKER_ID, name);
      assert.ok(
        worker.networks?.default?.aliases?.includes('worker'),
        `${name} is a target of Prometheus's worker job`,
      );
      assert.ok(worker.build?.dockerfile.endsWith('deploy/docker/worker.Dockerfile'), worker.build?.dockerfile);
    }
  });

  test('Redis needs the password from .env, keeps its data, and every secret has no default', () => {
    const { redis, api, grafana } = load().services;
    assert.equal(redis!.environment?.REDIS_PASSWORD, SECRETS.REDIS_PASSWORD);
    assert.match(redis!.command!.join(' '), /--requirepass "\$\$?REDIS_PASSWORD"/);
    assert.equal(api!.environment?.REDIS_URL, `redis://:${SECRETS.REDIS_PASSWORD}@redis:6379`);
    assert.equal(grafana!.environment?.GF_SECURITY_ADMIN_PASSWORD, SECRETS.GRAFANA_ADMIN_PASSWORD);
    assert.ok(
      redis!.volumes?.map(longVolume).some((v) => v.target === '/data' && v.type === 'volume'),
      'a volume for the append-only file',
    );
    for (const missing of ['REDIS_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) {
      const result = runConfig({ ...SECRETS, [missing]: '' });
      assert.notEqual(result.status, 0, `config without ${missing} must fail`);
      assert.match(result.stderr, new RegExp(`set ${missing} in .env`));
    }
  });

  test('the API and worker environments pass their config validation', () => {
    const model = load();
    const asEnv = (s: ComposeService) =>
      Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? '']));
    assert.doesNotThrow(() => loadApiConfig(asEnv(model.services.api!)), 'api');
    assert.doesNotThrow(() => loadWorkerConfig(asEnv(model.services['worker-0']!)), 'worker');
  });

  test('only the gateway listens on every interface, and every image is pinned', () => {
    const model = load();
    for (const [name, service] of Object.entries(model.services)) {
      for (const port of (service.ports ?? []).map(longPort)) {
        if (name !== 'nginx')
          assert.equal(port.host_ip, '127.0.0.1', `${name} publishes ${port.target} on loopback only`);
      }
      if (service.build) continue;
      assert.match(service.image ?? '', /:[\w.-]*\d[\w.-]*$/, `${name}: ${service.image} has a version tag`);
    }
    assert.deepEqual(model.services.models!.command, ['/models', '--only', 'demo'], 'no demo-only model is generated');
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
    const k8s = text('deploy/k8s/base/gateway.yaml');
    for (const name of NGINX_PLACEHOLDERS) {
      assert.match(composeText, new RegExp(`^\\s+${name}: \\S`, 'm'), `compose sets ${name}`);
      assert.match(k8s, new RegExp(`name: ${name}, value: `), `k8s sets ${name}`);
    }
    assert.match(composeText, /\.\/nginx\.conf:\/etc\/nginx\/templates\/nginx\.conf\.template/);
    assert.match(text('deploy/k8s/base/kustomization.yaml'), /nginx\.conf\.template=nginx\.conf/);
  });

  test('the files the compose file and the images refer to exist', () => {
    for (const file of [
      'nginx.conf',
      'deploy/docker/api.Dockerfile',
      'deploy/docker/worker.Dockerfile',
      'deploy/prometheus/prometheus.yml',
      'deploy/prometheus/rules.yml',
      '.env.example',
      'deploy/grafana/dashboards/tessera.json',
      'deploy/grafana/provisioning/datasources/prometheus.yml',
      'deploy/grafana/provisioning/dashboards/tessera.yml',
      'deploy/k8s/kustomization.yaml',
    ]) {
      assert.ok(existsSync(join(root, file)), file);
    }
    const dashboard = JSON.parse(text('deploy/grafana/dashboards/tessera.json')) as { panels: { title: string }[] };
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const word of ['queue depth', 'items in flight', 'batch size', 'p50', 'p99', 'out-of-memory', 'provider'])
      assert.ok(titles.includes(word), `dashboard shows ${word}`);
  });

  test('the API image runs its replicas with the V8 flags of the local topology', () => {
    // The last stage's CMD is the image's.
    const cmd = [...text('deploy/docker/api.Dockerfile').matchAll(/^CMD (\[.*\])$/gm)].pop()?.[1];
    assert.ok(cmd, 'the API image has an exec-form CMD');
    assert.deepEqual(JSON.parse(cmd), ['node', ...API_NODE_FLAGS, 'dist/main.js']);
  });

  test('the worker image is a CUDA 12 + cuDNN 9 runtime, as onnxruntime-node 1.29 requires', () => {
    const dockerfile = text('deploy/docker/worker.Dockerfile');
    assert.match(
      dockerfile,
      /^ARG CUDA_IMAGE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu\d+\.\d+@sha256:[0-9a-f]{64}$/m,
    );
    assert.match(dockerfile, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(text('deploy/k8s/overlays/gpu/worker-gpu.yaml'), /nvidia\.com\/gpu: 1/);
    assert.match(
      dockerfile,
      /^RUN set -e;.*\n(.*\n)*.*ldd "\$lib" \| grep "not found"/m,
      'the build fails on a missing CUDA library',
    );
  });

  test('base images are Node 22 LTS and the CUDA runtime, pinned by digest', () => {
    for (const file of ['deploy/docker/api.Dockerfile', 'deploy/docker/worker.Dockerfile']) {
      const dockerfile = text(file);
      assert.match(dockerfile, /^ARG NODE_IMAGE=node:22-bookworm-slim@sha256:[0-9a-f]{64}$/m, file);
      // Every FROM names a pinned ARG or an earlier stage, never a floating tag.
      const stages = new Set<string>();
      for (const [, image, stage] of dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)) {
        assert.ok(
          image === '${NODE_IMAGE}' || image === '${CUDA_IMAGE}' || stages.has(image!),
          `${file}: FROM ${image}`,
        );
        if (stage) stages.add(stage);
      }
    }
    assert.match(text('deploy/docker/worker.Dockerfile'), /^ARG CUDA_IMAGE=nvidia\/cuda:[\w.-]+@sha256:[0-9a-f]{64}$/m);
  });
});
