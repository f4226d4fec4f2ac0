/** Where a worker runs a model: the execution provider its sessions use. */
export type Provider = 'cpu' | 'cuda';

/** Config labels naming the version a request without one gets, per provider (e.g. "2" on the CPU, "1" on CUDA). */
export const DEFAULT_VERSION_LABEL: Record<Provider, string> = {
  cpu: 'default_version_cpu',
  cuda: 'default_version_cuda',
};

/**
 * The version a request that names none is served by: the one the model's config names for the
 * provider that runs it, when that version exists, else the highest. A quantized version is
 * the fastest within its accuracy bound on one provider and not on another (integer MatMul and
 * Conv run on the CPU; on CUDA they fall back to it), hence the choice per provider.
 */
export function defaultVersion(
  versions: readonly string[],
  labels: Readonly<Record<string, string>>,
  provider: Provider,
): string | undefined {
  const named = labels[DEFAULT_VERSION_LABEL[provider]];
  if (named !== undefined && versions.includes(named)) return named;
  return versions.at(-1);
}
