import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadApiConfig, loadWorkerConfig } from '@tessera/config';
import {
  bytes,
  find,
  kustomize,
  podSpecs,
  root,
  schemaErrors,
  type Container,
  type K8sObject,
} from './k8s-manifests.js';

/**
 * deploy/k8s as `kubectl apply -k` would send it, without a cluster: rendered by kubectl's own
 * kustomize, every object validated against the Kubernetes, KEDA and Prometheus Operator
 * schemas (kubernetes-models), then checked for what production needs.
 */
const rendered = {
  default: kustomize('deploy/k8s'),
  cpu: kustomize('deploy/k8s/overlays/cpu'),
  gpu: kustomize('deploy/k8s/overlays/gpu'),
};
const objects = rendered.default;
const containers = (spec: { containers: Container[]; initContainers?: Container[] }): Container[] => [
  ...(spec.initContainers ?? []),
  ...spec.containers,
];
const env = (c: Container, name: string) => c.env?.find((e) => e.name === name);
const workerContainer = (objs: K8sObject[]) =>
  find(objs, 'Deployment', 'worker').spec.template.spec.containers[0] as Container;

describe('deploy/k8s renders and validates', () => {
  test('every overlay renders, and every object matches its schema', async () => {
    assert.deepEqual(rendered.default, rendered.gpu, 'deploy/k8s is the GPU overlay');
    // The overlays differ from the base in the worker Deployment only.
    for (const objs of [rendered.default, [find(rendered.cpu, 'Deployment', 'worker')]]) {
      const errors = (await Promise.all(objs.map(schemaErrors))).flat();
      assert.deepEqual(errors, [], errors.join('\n'));
    }
    assert.ok(objects.length > 15);
  });

  test('a planted error fails the validation', async () => {
    const broken = structuredClone(find(objects, 'Deployment', 'api'));
    broken.spec.replicas = 'three';
    assert.match((await schemaErrors(broken)).join(), /replicas must be integer/);
    const scaled = structuredClone(find(objects, 'ScaledObject', 'worker'));
    delete scaled.spec.fallback.replicas;
    assert.match((await schemaErrors(scaled)).join(), /fallback must have required property '?replicas'?/);
    assert.match(
      (await schemaErrors({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).join(),
      /no schema/,
    );
  });

  test('with the redis-sentinel component, every object still validates and every pod is restricted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-kustomize-'));
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${path.relative(dir, path.join(root, 'deploy/k8s'))}\ncomponents:\n  - ${path.relative(dir, path.join(root, 'deploy/k8s/components/redis-sentinel'))}\n`,
    );
    const objs = kustomize(dir);
    assert.deepEqual((await Promise.all(objs.map(schemaErrors))).flat(), []);
    for (const { owner, spec } of podSpecs(objs)) {
      assert.equal(spec.securityContext?.runAsNonRoot, true, owner);
      for (const c of containers(spec))
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${owner} ${c.name}`);
    }
    for (const name of ['redis-ha', 'redis-sentinel'])
      assert.ok(find(objs, 'NetworkPolicy', name), `${name} is reachable past the default deny`);
  });

  test('the generated copies (nginx.conf, PrometheusRule) are current', () => {
    const check = spawnSync(process.execPath, [join(root, 'scripts/sync-deploy.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });
});

describe('deploy/k8s is production-shaped', () => {
  test('every pod is restricted: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    for (const { owner, spec } of podSpecs(objects)) {
      assert.equal(spec.securityContext?.runAsNonRoot, true, owner);
      assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', owner);
      for (const c of containers(spec)) {
        const where = `${owner} ${c.name}`;
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, where);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, where);
        assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], where);
        assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${where} has requests`);
        assert.ok(c.resources?.limits?.cpu && c.resources.limits.memory, `${where} has limits`);
      }
    }
  });

  test('images come from one place, pinned, never :latest or an unset registry', () => {
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of containers(spec)) {
        assert.match(c.image, /:[\w][\w.-]*(@sha256:[0-9a-f]{64})?$/, `${owner} ${c.name}: ${c.image}`);
        assert.doesNotMatch(c.image, /:latest$|^tessera-/, `${owner} ${c.name}: ${c.image}`);
      }
    }
  });

  test('workers: no replica count under KEDA, one at a time on a full node, time to finish held jobs', () => {
    const worker = find(objects, 'Deployment', 'worker');
    assert.equal(worker.spec.replicas, undefined, 'KEDA owns the replica count');
    assert.deepEqual(worker.spec.strategy.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 });
    const pod = worker.spec.template.spec;
    assert.ok(pod.containers[0].lifecycle.preStop, 'preStop');
    assert.ok(pod.terminationGracePeriodSeconds >= 35, 'grace covers SHUTDOWN_GRACE_MS (30 s) and the preStop pause');
    assert.equal(pod.containers[0].livenessProbe.httpGet.path, '/live');
    assert.equal(pod.containers[0].readinessProbe.httpGet.path, '/ready');
  });

  test('the GPU overlay gives each worker one GPU and CUDA; the CPU overlay none', () => {
    const gpu = workerContainer(rendered.gpu);
    assert.equal(gpu.resources?.limits?.['nvidia.com/gpu'], 1);
    assert.equal(env(gpu, 'DEVICE')?.value, 'cuda');
    const cpu = workerContainer(rendered.cpu);
    assert.equal(cpu.resources?.limits?.['nvidia.com/gpu'], undefined);
    assert.equal(env(cpu, 'DEVICE')?.value, 'cpu');
  });

  test('API readiness needs Redis only, metrics on a port named metrics, scraped by the PodMonitor; PDBs for gateway and API', () => {
    const api = find(objects, 'Deployment', 'api').spec.template.spec.containers[0];
    assert.equal(api.readinessProbe.httpGet.path, '/ready');
    assert.ok(api.ports.some((p: { name: string }) => p.name === 'metrics'));
    assert.ok(workerContainer(objects).ports?.some((p) => p.name === 'metrics'));
    assert.deepEqual(
      find(objects, 'PodMonitor', 'tessera').spec.podMetricsEndpoints.map((e: { port: string }) => e.port),
      ['metrics'],
    );
    for (const name of ['api', 'gateway'])
      assert.ok(find(objects, 'PodDisruptionBudget', name).spec.minAvailable >= 1, name);
  });

  test('KEDA: namespace-scoped query weighted by batch cap, with a fallback', () => {
    const scaled = find(objects, 'ScaledObject', 'worker').spec;
    const query: string = scaled.triggers[0].metadata.query;
    assert.match(query, /tessera_queue_items\{namespace="tessera"\}/);
    assert.match(query, /\/ on \(model\) max by \(model\) \(tessera_model_max_batch_size\{namespace="tessera"\}\)/);
    assert.equal(scaled.triggers[0].metadata.threshold, '1');
    assert.ok(scaled.fallback.replicas >= 1);
    assert.equal(scaled.scaleTargetRef.name, 'worker');
  });

  test('Redis: a StatefulSet on a PVC, password from a Secret, append-only, maxmemory below its limit, noeviction', () => {
    const redis = find(objects, 'StatefulSet', 'redis');
    assert.equal(redis.spec.volumeClaimTemplates[0].metadata.name, 'data');
    const c = redis.spec.template.spec.containers[0] as Container & {
      volumeMounts: { name: string; mountPath: string }[];
    };
    assert.deepEqual(c.args?.slice(1), ['--requirepass', '$(REDIS_PASSWORD)']);
    assert.deepEqual(env(c, 'REDIS_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'tessera-redis', key: 'password' } });
    const conf = Object.values(
      objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('redis-config'))!.data!,
    )[0]!;
    assert.match(conf, /^appendonly yes$/m);
    assert.match(conf, /^appendfsync everysec$/m);
    assert.match(conf, /^maxmemory-policy noeviction$/m);
    assert.ok(
      bytes(/^maxmemory (\S+)$/m.exec(conf)![1]!) < bytes(String(c.resources!.limits!.memory)),
      'maxmemory below the container limit',
    );
    for (const name of ['api', 'worker']) {
      const app = find(objects, 'Deployment', name).spec.template.spec.containers[0] as Container;
      assert.match(env(app, 'REDIS_URL')!.value!, /^redis:\/\/:\$\(REDIS_PASSWORD\)@redis:6379$/, name);
    }
  });

  test('NetworkPolicy: deny by default, Redis only from API and workers, the API port only from the gateway', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    assert.ok(
      policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.ingress === undefined),
      'a default deny',
    );
    const redis = find(objects, 'NetworkPolicy', 'redis').spec;
    assert.deepEqual(redis.ingress[0].from[0].podSelector.matchExpressions[0].values, ['api', 'worker']);
    assert.equal(redis.ingress.length, 1);
    const api = find(objects, 'NetworkPolicy', 'api').spec;
    const http = api.ingress.find((r: { ports: { port: string }[] }) => r.ports[0]!.port === 'http');
    assert.equal(http.from.length, 1);
    assert.equal(http.from[0].namespaceSelector, undefined, 'this namespace only');
    assert.equal(http.from[0].podSelector.matchLabels['app.kubernetes.io/name'], 'gateway');
  });

  test('the API and worker environments pass their config validation', () => {
    const shared = find(objects, 'ConfigMap', 'tessera-env').data!;
    for (const [overlay, objs] of Object.entries(rendered)) {
      for (const [name, load] of [
        ['api', loadApiConfig],
        ['worker', loadWorkerConfig],
      ] as const) {
        const c = find(objs, 'Deployment', name).spec.template.spec.containers[0] as Container;
        // What the kubelet would pass: the ConfigMap, then the literal values with $(VAR) expanded.
        const env: Record<string, string> = {
          ...shared,
          REDIS_PASSWORD: 'secret',
          REPLICA_ID: 'api-0',
          WORKER_ID: 'worker-0',
        };
        for (const e of c.env ?? [])
          if (e.value !== undefined) env[e.name] = e.value.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? '');
        assert.doesNotThrow(() => load(env), `${overlay} ${name}`);
      }
    }
  });

  test('no demo-only model reaches production pods', () => {
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of spec.initContainers ?? []) {
        if (c.image.includes('/models:')) assert.deepEqual(c.args, ['/models', '--only', 'demo'], owner);
      }
      const text = JSON.stringify(spec);
      for (const name of ['memory-hog', 'affine', 'token-sum', '"cost"', '"gather"'])
        assert.ok(!text.includes(name), `${owner} mentions ${name}`);
    }
    assert.match(
      readFileSync(join(root, 'deploy/docker/api.Dockerfile'), 'utf8'),
      /^CMD \["\/models", "--only", "demo"\]$/m,
    );
  });
});
