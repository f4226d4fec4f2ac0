import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Where free ports are picked: below the kernel's ephemeral range. A port the kernel would pick
 * (port 0) can be taken, between the pick and the service's own bind, as the local port of any
 * outgoing connection on the machine (a Redis client, nginx to a replica); a port below that
 * range never is. Undefined where the range cannot be read or leaves no room below it: the
 * kernel picks then.
 */
export function pickRange(
  rangeFile = '/proc/sys/net/ipv4/ip_local_port_range',
): { low: number; high: number } | undefined {
  let ephemeralLow: number;
  try {
    ephemeralLow = Number(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
  const low = 20_000;
  const high = ephemeralLow - 1;
  return Number.isInteger(high) && high - low >= 1000 ? { low, high } : undefined;
}

const RANGE = pickRange();

async function listenOnFreePort(host: string): Promise<Server> {
  if (RANGE) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = RANGE.low + Math.floor(Math.random() * (RANGE.high - RANGE.low + 1));
      try {
        return await listen(port, host);
      } catch {
        // Taken: try another.
      }
    }
  }
  return listen(0, host);
}

/** A TCP port that nothing listens on right now, outside the ephemeral range (see pickRange). */
export async function freePort(host: string = LOOPBACK): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

/** `count` distinct free ports; all are held open until every one is chosen. */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnFreePort(host));
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected server address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** Whether `port` can be bound on `host` right now. */
export async function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  try {
    await close(await listen(port, host));
    return true;
  } catch {
    return false;
  }
}

/** Throws an error naming `what` (e.g. "the gateway (GATEWAY_PORT)") when `port` is taken. */
export async function assertPortFree(port: number, what: string, host: string = LOOPBACK): Promise<void> {
  if (!(await isPortFree(port, host))) {
    throw new Error(`port ${port} on ${host} is already in use; it is needed for ${what}`);
  }
}

/** Whether something accepts TCP connections on `host:port`. */
export function isListening(port: number, host: string = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
