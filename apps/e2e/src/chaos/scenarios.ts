import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess, SentinelGroup, Stack } from '@tessera/topology';
import { waitFor } from '../http.js';

/** What a scenario's fault acts on. */
export interface FaultTarget {
  stack: Stack;
  /** Present for the Sentinel scenario. */
  group?: SentinelGroup;
}

export interface Scenario {
  name: string;
  /** What is done, in the report's words. */
  fault: string;
  /** When the fault counts as over. */
  endsWhen: string;
  needsSentinel?: boolean;
  /** Injects the fault; resolves when it is over. */
  inject(target: FaultTarget): Promise<void>;
}

/** The process that replaces `old` under the supervisor, once it is up (its own readiness check passed). */
async function replaced(stack: Stack, name: string, old: ManagedProcess): Promise<void> {
  await waitFor(
    `${name} to be restarted`,
    async () => {
      const now = stack.process(name);
      return Boolean(now && now !== old && now.running);
    },
    120_000,
  );
}

const kill =
  (name: string): Scenario['inject'] =>
  async ({ stack }) => {
    const proc = stack.process(name);
    if (!proc) throw new Error(`no process ${name}`);
    proc.signal('SIGKILL');
    await replaced(stack, name, proc);
  };

export const FREEZE_MS = 5000;

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill',
    fault: 'kill -9 of the only worker',
    endsWhen: 'the supervisor has restarted it and it is live',
    inject: kill('worker-1'),
  },
  {
    name: 'replica-kill',
    fault: 'kill -9 of API replica 1 of 3',
    endsWhen: 'the supervisor has restarted it and it is live',
    inject: kill('api-1'),
  },
  {
    name: 'redis-kill',
    fault: 'kill -9 of Redis',
    endsWhen: 'the supervisor has restarted it and it answers PING',
    inject: kill('redis'),
  },
  {
    name: 'redis-freeze',
    fault: `SIGSTOP of Redis for ${FREEZE_MS / 1000} s`,
    endsWhen: 'SIGCONT',
    inject: async ({ stack }) => {
      const proc = stack.process('redis')!;
      proc.signal('SIGSTOP');
      await sleep(FREEZE_MS);
      proc.signal('SIGCONT');
    },
  },
  {
    name: 'sentinel-failover',
    fault: 'kill -9 of the Redis primary (replica and three sentinels running)',
    endsWhen: 'the sentinels name the replica as the new primary',
    needsSentinel: true,
    inject: async ({ group }) => {
      group!.primary.process.signal('SIGKILL');
      await waitFor(
        'the sentinels to promote the replica',
        async () => (await group!.currentPrimary()).port === group!.replica.port,
        120_000,
      );
    },
  },
];
