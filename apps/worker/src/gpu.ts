import { execFile } from 'node:child_process';

export interface GpuSample {
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
];

/** One line of `nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits` (%, MiB, MiB). */
export function parseGpuSample(line: string): GpuSample | undefined {
  const fields = line.split(',').map((f) => Number(f.trim()));
  if (fields.length !== 3 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const [utilization, used, total] = fields as [number, number, number];
  return { utilization: utilization / 100, memoryUsedBytes: used * 2 ** 20, memoryTotalBytes: total * 2 ** 20 };
}

/**
 * Reads NVML through nvidia-smi (which the NVIDIA container toolkit mounts into every GPU
 * container) for one device, at scrape time. A sample is undefined when nvidia-smi fails.
 *
 * Where nvidia-smi cannot be started at all (a host or container without the driver's tools),
 * the first try says so and no later scrape spawns it again: each spawn forks the whole worker
 * process, several milliseconds of CPU at every scrape for a sample that can never come. A
 * run that starts and fails (a timeout, a driver hiccup) is tried again at the next scrape.
 */
export class GpuSampler {
  private missing = false;

  constructor(
    private readonly device: number,
    private readonly command = 'nvidia-smi',
    private readonly timeoutMs = 2000,
  ) {}

  /** False once nvidia-smi turned out not to be there: no sample will be taken any more. */
  get available(): boolean {
    return !this.missing;
  }

  sample(): Promise<GpuSample | undefined> {
    if (this.missing) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const args = [...NVIDIA_SMI_ARGS, `--id=${this.device}`];
      execFile(this.command, args, { timeout: this.timeoutMs }, (err, stdout) => {
        // A spawn failure carries an errno name (ENOENT, EACCES); a run that failed, its exit code or signal.
        if (err && typeof err.code === 'string') this.missing = true;
        resolve(err ? undefined : parseGpuSample(stdout.trim().split('\n')[0] ?? ''));
      });
    });
  }
}
