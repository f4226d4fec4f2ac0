import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, type Redis } from 'ioredis';

/** Where the .lua files are: beside this module, in src/commands and (copied by the build) dist/commands. */
const COMMANDS_DIR = new URL('./commands/', import.meta.url);
const INCLUDE = /^--- @include "([A-Za-z0-9_/]+)"$/gm;

/** A script's KEYS and ARGV, in order. */
export interface ScriptCall {
  keys: string[];
  args: (string | number)[];
}

/** Arguments of a script → its KEYS and ARGV; its raw reply → a typed result. */
export interface ScriptCodec<In, Out> {
  encode(input: In): ScriptCall;
  decode(reply: unknown, input: In): Out;
}

/**
 * The text of `commands/<file>.lua` with every `--- @include "includes/<name>"` line replaced by
 * that file (once per script, as BullMQ does). Read from disk once, when the module defining the
 * script is loaded.
 */
export function loadLua(file: string, included = new Set<string>()): string {
  const text = readFileSync(new URL(`${file}.lua`, COMMANDS_DIR), 'utf8');
  return text.replace(INCLUDE, (_, name: string) => {
    if (included.has(name)) return '';
    included.add(name);
    return loadLua(name, included);
  });
}

/**
 * A Lua script of commands/, run with EVALSHA, so that the script's text crosses the wire once
 * per Redis server rather than with every call; on NOSCRIPT (a restarted or flushed Redis) it is
 * sent again with EVAL, which also caches it.
 *
 * The file is named `<name>-<number of keys>.lua`, or `<name>-n.lua` when the number of keys
 * varies with the call; a call whose KEYS do not match a fixed number is a bug and throws.
 */
export class RedisScript<In, Out> {
  readonly source: string;
  readonly sha: string;
  private readonly numberOfKeys: number | undefined;
  /** Sockets this script was sent on with EVAL, which left it in that server's script cache. */
  private readonly sentOn = new WeakSet<object>();

  constructor(
    readonly file: string,
    private readonly codec: ScriptCodec<In, Out>,
  ) {
    const count = /-(\d+|n)$/.exec(file)?.[1];
    if (count === undefined) throw new Error(`script file '${file}' does not end in -<number of keys> or -n`);
    this.numberOfKeys = count === 'n' ? undefined : Number(count);
    this.source = loadLua(file);
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(conn: Redis, input: In): Promise<Out> {
    const { keys, args } = this.encode(input);
    let reply: unknown;
    try {
      reply = await conn.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      reply = await conn.eval(this.source, keys.length, ...keys, ...args);
    }
    return this.codec.decode(reply, input);
  }

  /**
   * The script runs before any command issued on `conn` after this call, which the NOSCRIPT
   * retry of `run` would not guarantee: for calls that later commands on the same connection
   * depend on (the job add that follows an admission). It goes out as EVAL the first time on each
   * socket, decided as it is written (a command queued while the connection was down may reach
   * a restarted server), and as EVALSHA after that: the script's text crosses the wire once per
   * connection, not with every call. Should the server's script cache be flushed under a live
   * connection, the call fails rather than be retried out of order; the next one sends EVAL.
   */
  async runInOrder(conn: Redis, input: In): Promise<Out> {
    const { keys, args } = this.encode(input);
    const command = new InOrderScript(this, this.sentOn, [this.sha, keys.length, ...keys, ...args]);
    return this.codec.decode(await conn.sendCommand(command), input);
  }

  private encode(input: In): ScriptCall {
    const call = this.codec.encode(input);
    if (this.numberOfKeys !== undefined && call.keys.length !== this.numberOfKeys)
      throw new Error(`bug: script ${this.file} takes ${this.numberOfKeys} keys, was given ${call.keys.length}`);
    return call;
  }
}

/** EVALSHA, or EVAL with the script's text on a socket it was not yet sent on (see runInOrder). */
class InOrderScript extends Command {
  private socket: object | undefined;

  constructor(
    private readonly script: { source: string; sha: string },
    private readonly sentOn: WeakSet<object>,
    args: (string | number)[],
  ) {
    super('evalsha', args, { replyEncoding: 'utf8' });
    this.promise = this.promise.catch((err: Error) => {
      if (this.socket && err.message.startsWith('NOSCRIPT')) this.sentOn.delete(this.socket);
      throw err;
    });
  }

  override toWritable(socket: object): string | Buffer {
    this.socket = socket;
    const loaded = this.sentOn.has(socket);
    if (!loaded) this.sentOn.add(socket);
    this.name = loaded ? 'evalsha' : 'eval';
    this.args[0] = loaded ? this.script.sha : this.script.source;
    return super.toWritable(socket);
  }
}
