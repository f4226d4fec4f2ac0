import type { Redis } from 'ioredis';
import { repositoryControlKey } from './names.js';

/** What the repository API last asked for a model (Triton's model control, explicit mode). */
export interface ControlEntry {
  state: 'loaded' | 'unloaded';
  /** A configuration given with the load, used instead of the model's config.json. */
  config?: unknown;
  /** Epoch ms of the request. */
  at: number;
}

/** The whole control state, as loadRepository takes it. */
export interface ControlState {
  entries: Map<string, ControlEntry>;
  unloaded: Set<string>;
  configs: Record<string, unknown>;
}

/**
 * Model control shared by every replica and worker: one Redis hash (model → ControlEntry) holds
 * the state, so a process that starts later applies it too, and a message on the channel of the
 * same name tells the running ones to re-read it. `workers` messages make workers load and
 * release sessions; `replicas` messages make API replicas refresh their view of the repository.
 */
export class RepositoryControl {
  readonly channel: string;

  constructor(
    private readonly conn: Redis,
    prefix: string,
  ) {
    this.channel = repositoryControlKey(prefix);
  }

  async set(model: string, entry: ControlEntry): Promise<void> {
    await this.conn.hset(this.channel, model, JSON.stringify(entry));
  }

  async read(): Promise<ControlState> {
    const raw = await this.conn.hgetall(this.channel);
    const entries = new Map<string, ControlEntry>();
    for (const [name, json] of Object.entries(raw)) {
      try {
        entries.set(name, JSON.parse(json) as ControlEntry);
      } catch {
        // An entry nobody can read is no instruction.
      }
    }
    const unloaded = new Set([...entries].filter(([, e]) => e.state === 'unloaded').map(([n]) => n));
    const configs = Object.fromEntries([...entries].filter(([, e]) => e.state === 'loaded' && e.config !== undefined).map(([n, e]) => [n, e.config]));
    return { entries, unloaded, configs };
  }

  async notify(audience: 'workers' | 'replicas'): Promise<void> {
    await this.conn.publish(this.channel, audience);
  }

  /** Calls `onChange` for each message to `audience`; `subscriber` becomes a subscriber connection. */
  async subscribe(subscriber: Redis, audience: 'workers' | 'replicas', onChange: () => void): Promise<void> {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel && message === audience) onChange();
    });
    await subscriber.subscribe(this.channel);
  }
}
