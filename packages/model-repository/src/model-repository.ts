import type { ModelSpec } from '@tessera/contract';
import { defaultVersion, type Provider } from './default-version.js';

const byVersion = (a: string, b: string) => Number(a) - Number(b);

/** The servable models of a repository, each with its versions; read-only once loaded. */
export class ModelRepository {
  readonly dir: string;
  private readonly models = new Map<string, Map<string, ModelSpec>>();

  constructor(dir: string, specs: readonly ModelSpec[]) {
    this.dir = dir;
    for (const spec of specs) {
      let versions = this.models.get(spec.name);
      if (!versions) this.models.set(spec.name, (versions = new Map()));
      versions.set(spec.version, spec);
    }
  }

  /** Model names, sorted. */
  names(): string[] {
    return [...this.models.keys()].sort();
  }

  /** Versions of a model in numeric order (empty when the model is unknown). */
  versions(name: string): string[] {
    return [...(this.models.get(name)?.keys() ?? [])].sort(byVersion);
  }

  /**
   * One version of a model; when `version` is not given, the default version for `provider`
   * (see defaultVersion: the highest unless the config names another).
   */
  get(name: string, version?: string, provider: Provider = 'cpu'): ModelSpec | undefined {
    const versions = this.models.get(name);
    if (!versions) return undefined;
    if (version !== undefined) return versions.get(version);
    const ordered = this.versions(name);
    const labels = versions.get(ordered.at(-1) ?? '')?.labels ?? {};
    const chosen = defaultVersion(ordered, labels, provider);
    return chosen === undefined ? undefined : versions.get(chosen);
  }

  /** Every version of every model, by name then version. */
  all(): ModelSpec[] {
    return this.names().flatMap((name) => this.versions(name).map((v) => this.models.get(name)!.get(v)!));
  }
}
