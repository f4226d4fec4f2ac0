import type { Redis } from 'ioredis';
import {
  admit,
  admissionMember,
  type AdmissionOutcome,
  type AdmissionRequest,
  type PlannedJob,
} from './commands/admit.js';
import { release } from './commands/release.js';
import { RedisKeys } from './keys.js';

/**
 * Queue caps counted in items, the same for every API replica.
 *
 * Per model, a sorted set holds one member per admitted request (`requestId|items`, scored by the
 * time after which it can no longer matter: its deadline plus a grace; requests sharing a job are
 * members each) and a counter holds the sum of their items.
 * Admission is one Lua script (commands/admit-n.lua), so that replicas cannot both take the last
 * free items. Whoever finishes a request releases it (the API when it answers, the worker when it
 * replies; the second release finds nothing). Entries of a replica that crashed are dropped once
 * their deadline has passed, before every count, so nothing leaks for longer than a request could
 * live.
 */

export interface AdmissionResult {
  admitted: boolean;
  /** Items in flight for the model after this decision. */
  inFlight: number;
}

export class Admission {
  private readonly keys: RedisKeys;

  constructor(
    readonly conn: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async admit(
    model: string,
    requestId: string,
    items: number,
    cap: number,
    deadline: number,
  ): Promise<AdmissionResult> {
    const { admitted, inFlight } = await this.admitMany(model, [{ requestId, items, deadline }], cap);
    return { admitted: admitted[0]!, inFlight };
  }

  /**
   * In one round trip, per request in order: counts it against its rate limit, if it has one,
   * and stops there when it is over; answers it from the response cache when it names a cache
   * key that holds a result; else admits it if it fits under `cap`.
   *
   * With `planned`, the script runs before any command issued on this connection after the
   * call, and blocks the planned job's key when it does not admit every request.
   */
  admitMany(
    model: string,
    requests: readonly AdmissionRequest[],
    cap: number,
    planned?: PlannedJob,
  ): Promise<AdmissionOutcome> {
    const input = { keys: this.keys.admission(model), now: Date.now(), cap, requests, planned };
    // Issued before this returns (no await before it): the caller's job add must follow it.
    return planned ? admit.runInOrder(this.conn, input) : admit.run(this.conn, input);
  }

  /** Idempotent: releasing twice, or a request never admitted, changes nothing. */
  async release(model: string, requestId: string, items: number): Promise<void> {
    await release.run(this.conn, { keys: this.keys.admission(model), members: [admissionMember(requestId, items)] });
  }

  /** Items `owner` holds in the model's queue (expired entries still count until the next admit). */
  async heldBy(model: string, owner: string): Promise<number> {
    return Math.max(0, Number((await this.conn.hget(this.keys.admission(model).usage, owner)) ?? 0));
  }

  /** Items admitted and not yet released (expired entries still count until the next admit). */
  async inFlight(model: string): Promise<number> {
    return Math.max(0, Number((await this.conn.get(this.keys.admission(model).counter)) ?? 0));
  }
}
