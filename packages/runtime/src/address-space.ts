/**
 * Soft address-space limit (RLIMIT_AS) on this process. Node has no setrlimit, so util-linux's
 * `prlimit` sets it on our own pid; an unprivileged process may lower its soft limit and raise
 * it again up to the hard limit, which is left untouched.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Current virtual size of this process (VmSize), in bytes. */
export function virtualSizeBytes(): number {
  const match = /^VmSize:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (match === null) throw new Error('VmSize missing from /proc/self/status');
  return Number(match[1]) * 1024;
}

/** [soft, hard] RLIMIT_AS in bytes; Infinity for unlimited. */
export function addressSpaceLimit(): [number, number] {
  const match = /^Max address space\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (match === null) throw new Error('Max address space missing from /proc/self/limits');
  const parse = (v: string): number => (v === 'unlimited' ? Infinity : Number(v));
  return [parse(match[1]!), parse(match[2]!)];
}

export async function setSoftAddressSpaceLimit(bytes: number): Promise<void> {
  const [, hard] = addressSpaceLimit();
  const soft = Math.min(bytes, hard);
  const value = Number.isFinite(soft) ? String(Math.floor(soft)) : 'unlimited';
  try {
    await run('prlimit', ['--pid', String(process.pid), `--as=${value}:`]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`could not set the address-space limit with prlimit (util-linux): ${message}`, { cause: err });
  }
}

/** Lets the address space grow freely (up to the hard limit), e.g. while a session is created. */
export async function liftAddressSpaceLimit(): Promise<void> {
  await setSoftAddressSpaceLimit(Infinity);
}

/** Limits further growth to `headroomBytes` beyond the current size; returns the limit set. */
export async function limitAddressSpaceGrowth(headroomBytes: number): Promise<number> {
  const limit = virtualSizeBytes() + headroomBytes;
  await setSoftAddressSpaceLimit(limit);
  return Math.min(limit, addressSpaceLimit()[1]);
}
