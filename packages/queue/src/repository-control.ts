import type { Redis } from 'ioredis';
import { RedisKeys } from './keys.js';

export type Audience = 'workers' | 'replicas';

const ACK_TTL_MS = 120_000;

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
 * the state, so a process that starts later applies it too, and a message on the audience's
 * channel (RedisKeys.repositoryChannel) tells the running ones to re-read it, and each
 * acknowledges once it has. `workers` messages make workers load and release sessions;
 * `replicas` messages make API replicas refresh their view of the repository.
 */
export class RepositoryControl {
  private readonly keys: RedisKeys;

  constructor(
    private readonly conn: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** Records a model's new state; returns the change's generation (one counter for all changes). */
  async set(model: string, entry: ControlEntry): Promise<number> {
    const results = await this.conn
      .multi()
      .hset(this.keys.repositoryControl, model, JSON.stringify(entry))
      .incr(this.keys.repositoryGeneration)
      .exec();
    const generation = results?.[1]?.[1];
    if (typeof generation !== 'number') throw new Error('the repository control generation could not be read');
    return generation;
  }

  async read(): Promise<ControlState> {
    const raw = await this.conn.hgetall(this.keys.repositoryControl);
    const entries = new Map<string, ControlEntry>();
    for (const [name, json] of Object.entries(raw)) {
      try {
        entries.set(name, JSON.parse(json) as ControlEntry);
      } catch {
        // An entry nobody can read is no instruction.
      }
    }
    const unloaded = new Set([...entries].filter(([, e]) => e.state === 'unloaded').map(([n]) => n));
    const configs = Object.fromEntries(
      [...entries].filter(([, e]) => e.state === 'loaded' && e.config !== undefined).map(([n, e]) => [n, e.config]),
    );
    return { entries, unloaded, configs };
  }

  /**
   * Tells every subscriber of `audience` to apply the change, and waits until each one says it
   * has (PUBLISH returns how many received the message; each acknowledges after applying it).
   * Returns false when not every one acknowledged within `timeoutMs`.
   */
  async apply(audience: Audience, generation: number, timeoutMs: number): Promise<boolean> {
    const receivers = await this.conn.publish(this.keys.repositoryChannel(audience), String(generation));
    const until = Date.now() + timeoutMs;
    while (Number((await this.conn.get(this.keys.repositoryAck(audience, generation))) ?? 0) < receivers) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /**
   * Calls `onChange` for each change sent to `audience` and acknowledges it once applied;
   * `subscriber` becomes a subscriber connection.
   */
  async subscribe(subscriber: Redis, audience: Audience, onChange: () => Promise<void>): Promise<void> {
    const channel = this.keys.repositoryChannel(audience);
    subscriber.on('message', (from: string, generation: string) => {
      if (from !== channel) return;
      void onChange().finally(() => {
        const key = this.keys.repositoryAck(audience, Number(generation));
        this.conn
          .multi()
          .incr(key)
          .pexpire(key, ACK_TTL_MS)
          .exec()
          .catch(() => {
            // A lost acknowledgement shows as apply()'s timeout, which is the answer it should give.
          });
      });
    });
    await subscriber.subscribe(channel);
  }
}
