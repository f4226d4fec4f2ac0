import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of processes from /proc (Linux). A "watched" process is a named set of
 * pids: one process, or every member of a process group (nginx's master and its workers: the
 * topology starts each service as the leader of its own group). /proc/<pid>/stat counts every
 * thread of the process, so ONNX Runtime's threads and Node's worker threads are included.
 */

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

interface Stat {
  pid: number;
  pgrp: number;
  cpuTicks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After "comm": [0]=state [1]=ppid [2]=pgrp ... [11]=utime [12]=stime
    return { pid, pgrp: Number(fields[2]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export interface Watched {
  name: string;
  pid: number;
  /** Count every process of the group `pid` leads (nginx workers). */
  group: boolean;
}

function members(w: Watched): number[] {
  if (!w.group) return [w.pid];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === w.pid) pids.push(stat.pid);
  }
  return pids.length > 0 ? pids : [w.pid];
}

export interface CpuSnapshot {
  name: string;
  pids: number[];
  cpuS: number;
}

export function cpuSnapshot(watched: readonly Watched[]): CpuSnapshot[] {
  return watched.map((w) => {
    const pids = members(w);
    const total = pids.reduce((n, pid) => n + (readStat(pid)?.cpuTicks ?? 0), 0);
    return { name: w.name, pids, cpuS: total / clockTicks() };
  });
}

export function rssMb(w: Watched): number {
  return members(w).reduce((n, pid) => n + statusKb(pid, 'VmRSS'), 0) / 1024;
}

export function hwmMb(w: Watched): number | null {
  if (w.group) return null;
  const kb = statusKb(w.pid, 'VmHWM');
  return kb > 0 ? kb / 1024 : null;
}

/** Samples the resident set of every watched process until stopped; keeps each one's peak. */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly watched: readonly Watched[],
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const w of this.watched) this.peaks.set(w.name, Math.max(this.peaks.get(w.name) ?? 0, rssMb(w)));
  }

  stop(): Map<string, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }
}

/**
 * Waits until the processes use less than `maxCores` of CPU over `intervalMs` (or `timeoutMs`
 * passed): requests a contender accepted before its load generator stopped are still being
 * computed after a step (a seed with 256 queued PP-OCR requests works for seconds), and that
 * work must not land in the next step, which may measure another contender. Resolves to the
 * seconds waited.
 */
export async function waitQuiet(
  watched: readonly Watched[],
  opts: { maxCores?: number; intervalMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const { maxCores = 0.05, intervalMs = 250, timeoutMs = 60_000 } = opts;
  const total = () => cpuSnapshot(watched).reduce((n, s) => n + s.cpuS, 0);
  const started = Date.now();
  let before = total();
  while (Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = total();
    if ((now - before) / (intervalMs / 1000) < maxCores) break;
    before = now;
  }
  return (Date.now() - started) / 1000;
}
