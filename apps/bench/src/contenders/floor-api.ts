/**
 * The floor's HTTP tier: the least an API replica of this design can do. node:http, no
 * framework, no validation, no auth, no metrics: each request's body goes to Redis in one LPUSH
 * and its answer comes back on the replica's own pub/sub channel (one subscription for all
 * requests), written to the client as the worker encoded it.
 *
 * Environment: PORT (required), REDIS_URL (required), REPLICA_ID (floor-1).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { isEntry, runUntilSignal } from './floor-main.js';
import { encodeJob, floorQueue, replyChannel, splitReply } from './floor-protocol.js';

const INFER = /^\/v2\/models\/([^/]+)\/infer$/;
const READY = /^\/v2\/models\/[^/]+\/ready$/;

export interface FloorApi {
  server: Server;
  close(): Promise<void>;
}

export async function startFloorApi(opts: { port: number; redisUrl: string; replicaId: string }): Promise<FloorApi> {
  const commands = new Redis(opts.redisUrl);
  const replies = new Redis(opts.redisUrl);
  const channel = replyChannel(opts.replicaId);
  const waiting = new Map<string, ServerResponse>();
  let nextId = 0;

  replies.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    const { id, headerLength, body } = splitReply(message);
    const res = waiting.get(id);
    if (!res) return;
    waiting.delete(id);
    const headers = headerLength
      ? { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength }
      : { 'content-type': 'application/json' };
    res.writeHead(200, { ...headers, 'content-length': body.byteLength }).end(body);
  });
  await replies.subscribe(channel);

  const infer = (req: IncomingMessage, res: ServerResponse, model: string) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(nextId++);
      waiting.set(id, res);
      const headerLength = req.headers['inference-header-content-length'];
      const job = encodeJob(channel, id, typeof headerLength === 'string' ? headerLength : '', Buffer.concat(chunks));
      commands.lpush(floorQueue(model), job).catch((err: unknown) => {
        waiting.delete(id);
        res.writeHead(500).end(String(err));
      });
    });
  };

  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const model = req.method === 'POST' ? INFER.exec(url)?.[1] : undefined;
    if (model) return infer(req, res, model);
    if (req.method === 'GET' && (READY.test(url) || url.startsWith('/v2/health')))
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}');
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok, fail) => server.listen(opts.port, '127.0.0.1', ok).once('error', fail));
  return {
    server,
    close: async () => {
      await new Promise((done) => server.close(done));
      commands.disconnect();
      replies.disconnect();
    },
  };
}

function main(): void {
  const port = Number(process.env.PORT);
  const redisUrl = process.env.REDIS_URL;
  if (!Number.isInteger(port) || port <= 0 || !redisUrl) throw new Error('PORT and REDIS_URL must be set');
  const replicaId = process.env.REPLICA_ID ?? 'floor-1';
  runUntilSignal(`floor API on http://127.0.0.1:${port}`, async () => {
    const api = await startFloorApi({ port, redisUrl, replicaId });
    return { stop: () => api.close() };
  });
}

if (isEntry(import.meta.url)) main();
