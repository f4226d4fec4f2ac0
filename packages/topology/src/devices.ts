import { spawnSync } from 'node:child_process';
import { findExecutable } from './paths.js';

/**
 * `CUDA_DEVICES` as a list of GPU indices ("0,1,3"); undefined when unset or empty. A value that
 * is not a list of indices is an error, not a silent fallback to device 0.
 */
export function parseCudaDevices(spec: string | undefined): number[] | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  const devices = spec.split(',').map((s) => s.trim());
  if (devices.some((d) => !/^\d+$/.test(d)))
    throw new Error(`CUDA_DEVICES must be GPU indices separated by commas (e.g. 0,1), got '${spec}'`);
  return devices.map(Number);
}

/** GPU indices nvidia-smi reports; [] without nvidia-smi or a GPU. */
export function detectGpus(env: NodeJS.ProcessEnv = process.env): number[] {
  const smi = findExecutable('nvidia-smi', env.PATH);
  if (!smi) return [];
  const result = spawnSync(smi, ['--query-gpu=index', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return [];
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/**
 * The GPU of each of `count` workers: worker i gets devices[i], wrapping around when there are
 * more workers than devices. Undefined entries leave CUDA_DEVICE_ID to the worker (device 0),
 * which is what a host without GPUs gets.
 */
export function assignDevices(count: number, devices: readonly number[]): (number | undefined)[] {
  return Array.from({ length: count }, (_, i) => (devices.length > 0 ? devices[i % devices.length] : undefined));
}

/** CUDA_DEVICES when set, otherwise every GPU nvidia-smi sees. */
export function cudaDevices(env: NodeJS.ProcessEnv = process.env): number[] {
  return parseCudaDevices(env.CUDA_DEVICES) ?? detectGpus(env);
}
