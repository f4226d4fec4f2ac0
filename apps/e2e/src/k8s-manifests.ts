import { spawnSync } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { findExecutable, findRepoRoot } from '@tessera/topology';

/** One rendered Kubernetes object, loosely typed: the tests read it field by field. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

export const root = findRepoRoot();

/** `kubectl kustomize <dir>` (Debian's kubectl or any newer one): the objects it renders. */
export function kustomize(dir: string): K8sObject[] {
  const kubectl = findExecutable('kubectl');
  if (!kubectl) throw new Error('kubectl is not installed (npm test installs it through apt: kubernetes-client)');
  const result = spawnSync(kubectl, ['kustomize', isAbsolute(dir) ? dir : join(root, dir)], {
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

/** Module of the kubernetes-models package that holds the schema of an apiVersion. */
function schemaModule(apiVersion: string): string {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}`;
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

/** Problems of one object against its Kubernetes, KEDA or Prometheus Operator schema; [] when valid. */
export async function schemaErrors(object: K8sObject): Promise<string[]> {
  let models: Record<string, new (data: unknown) => { validate(): void }>;
  try {
    models = (await import(schemaModule(object.apiVersion))) as typeof models;
  } catch {
    return [`${object.kind}/${object.metadata.name}: no schema for apiVersion ${object.apiVersion}`];
  }
  const Model = models[object.kind];
  if (!Model) return [`${object.kind}/${object.metadata.name}: ${object.apiVersion} has no kind ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [`${object.kind}/${object.metadata.name}: ${(err as Error).message}`];
  }
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** Pod templates of the workloads (Deployments and StatefulSets). */
export function podSpecs(objects: K8sObject[]): { owner: string; spec: PodSpec }[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec as PodSpec }));
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
}

/** Bytes of a Kubernetes quantity (Gi, Mi) or a Redis size (1gb, 512mb). */
export function bytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ki|mi|gi|kb|mb|gb|k|m|g)?$/i.exec(quantity.trim());
  if (!m) throw new Error(`not a size: ${quantity}`);
  const unit = (m[2] ?? '').toLowerCase();
  const factor = {
    '': 1,
    k: 1e3,
    kb: 1024,
    ki: 1024,
    m: 1e6,
    mb: 2 ** 20,
    mi: 2 ** 20,
    g: 1e9,
    gb: 2 ** 30,
    gi: 2 ** 30,
  }[unit]!;
  return Number(m[1]) * factor;
}
