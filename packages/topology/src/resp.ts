import { createConnection } from 'node:net';

/** A decoded RESP2 reply: simple and bulk strings, integers, nil, arrays; errors are thrown. */
export type RespValue = string | number | null | RespValue[];

export class RespError extends Error {
  override name = 'RespError';
}

/** Parses one reply at `pos`; undefined while `text` is incomplete. */
function parse(text: string, pos: number): { value: RespValue; end: number } | undefined {
  const eol = text.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const head = text.slice(pos + 1, eol);
  switch (text[pos]) {
    case '+':
      return { value: head, end: eol + 2 };
    case '-':
      throw new RespError(head);
    case ':':
      return { value: Number(head), end: eol + 2 };
    case '$': {
      const length = Number(head);
      if (length < 0) return { value: null, end: eol + 2 };
      if (text.length < eol + 2 + length + 2) return undefined;
      return { value: text.slice(eol + 2, eol + 2 + length), end: eol + 2 + length + 2 };
    }
    case '*': {
      const count = Number(head);
      if (count < 0) return { value: null, end: eol + 2 };
      const items: RespValue[] = [];
      let at = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parse(text, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new RespError(`unexpected reply byte '${text[pos]}'`);
  }
}

const encode = (args: readonly string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/**
 * Sends one command (after AUTH when `password` is given, as `user` when given) over a fresh connection and resolves
 * with its reply: for the few checks the topology makes of redis-server and redis-sentinel
 * without a client library.
 */
export function redisCommand(
  port: number,
  host: string,
  args: readonly string[],
  options: { user?: string; password?: string; timeoutMs?: number } = {},
): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host });
    const replies = options.password ? 2 : 1;
    let buffer = '';
    const finish = (error: Error | undefined, value?: RespValue) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    socket.setTimeout(options.timeoutMs ?? 1000, () =>
      finish(new Error(`no reply from ${host}:${port} to ${args[0]}`)),
    );
    socket.once('error', (error) => finish(error));
    const login = options.password
      ? encode(options.user ? ['AUTH', options.user, options.password] : ['AUTH', options.password])
      : '';
    socket.once('connect', () => socket.write(login + encode(args)));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      try {
        let at = 0;
        let value: RespValue = null;
        for (let i = 0; i < replies; i++) {
          const reply = parse(buffer, at);
          if (!reply) return;
          value = reply.value;
          at = reply.end;
        }
        finish(undefined, value);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}
