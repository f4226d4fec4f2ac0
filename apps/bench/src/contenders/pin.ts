import { execFileSync } from 'node:child_process';

/**
 * Restricting the benchmark to some CPUs (--cpus): the services' processes, every thread, are
 * pinned with taskset; the threads they start later inherit it.
 */
export function pin(pids: readonly number[], cpus: readonly number[]): void {
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { stdio: 'ignore' });
}

/**
 * Where the load generator runs: on the CPUs the services were not given, so that it takes
 * nothing from them; when they were given every CPU, it is not pinned and shares them.
 */
export function loadgenCpus(services: readonly number[] | undefined, online: number): number[] | undefined {
  if (!services) return undefined;
  const others = Array.from({ length: online }, (_, i) => i).filter((c) => !services.includes(c));
  return others.length > 0 ? others : undefined;
}
