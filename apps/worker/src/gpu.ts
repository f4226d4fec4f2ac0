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
 * container) for one device, at scrape time. Undefined when nvidia-smi is missing or fails.
 */
export function sampleGpu(device: number, timeoutMs = 2000): Promise<GpuSample | undefined> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', [...NVIDIA_SMI_ARGS, `--id=${device}`], { timeout: timeoutMs }, (err, stdout) => {
      resolve(err ? undefined : parseGpuSample(stdout.trim().split('\n')[0] ?? ''));
    });
  });
}
