/**
 * The floor's worker: the least a worker of this design can do. Per model, one blocking pop
 * takes every job waiting (up to the model's max batch size) in one round trip, the batch runs
 * through `session.run` as the real worker stacks it (same stacking and splitting code, same
 * session options), and each answer is published to its replica's channel, all in one pipeline.
 * No BullMQ, no validation beyond what decoding needs, no metrics, no heartbeats.
 *
 * Environment: REDIS_URL (required), MODEL_REPOSITORY, MODELS (comma-separated), INTRA_OP_THREADS (1).
 */
import { Redis } from 'ioredis';
import type ort from 'onnxruntime-node';
import { compatKey, splitOutputs, stackInputs } from '@tessera/batcher';
import {
  datatypeFromOrt,
  parseBinaryBody,
  viewBytes,
  type Datatype,
  type ModelSpec,
  type Tensor,
} from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { isEntry, runUntilSignal } from './floor-main.js';
import { decodeJob, encodeReply, floorQueue, readyKey, type FloorJob } from './floor-protocol.js';
import { createSession, toOrt } from './ort-session.js';

interface HeaderInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  parameters: { binary_data_size: number };
}

interface Request {
  inputs: Tensor[];
  /** The client asked for its outputs as raw bytes (the binary extension's `binary_data_output`). */
  binaryOutputs: boolean;
}

/** The binary extension's tensors, each copied out of the body (so that it is aligned). */
function requestOf(job: FloorJob): Request {
  const { header, data } = parseBinaryBody(job.body, job.headerLength);
  const { inputs, parameters } = header as { inputs: HeaderInput[]; parameters?: { binary_data_output?: boolean } };
  let at = 0;
  const tensors = inputs.map((h) => {
    const size = h.parameters.binary_data_size;
    const bytes = new Uint8Array(size);
    bytes.set(data.bytes.subarray(at, (at += size)));
    return { name: h.name, datatype: h.datatype, shape: h.shape, data: viewBytes(h.datatype, bytes) };
  });
  return { inputs: tensors, binaryOutputs: parameters?.binary_data_output === true };
}

function jsonData(t: Tensor): unknown[] {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
  return Array.from(d as ArrayLike<number>);
}

interface Answer {
  /** Empty for a JSON answer; the JSON header's length when raw output bytes follow it. */
  headerLength: string;
  body: Buffer;
}

function answer(spec: ModelSpec, outputs: readonly Tensor[], binary: boolean): Answer {
  const head = { model_name: spec.name, model_version: spec.version };
  if (!binary) {
    const data = outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: jsonData(t) }));
    return { headerLength: '', body: Buffer.from(JSON.stringify({ ...head, outputs: data })) };
  }
  const bytes = outputs.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const header = Buffer.from(
    JSON.stringify({
      ...head,
      outputs: outputs.map((t, i) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape,
        parameters: { binary_data_size: bytes[i]!.byteLength },
      })),
    }),
  );
  return { headerLength: String(header.byteLength), body: Buffer.concat([header, ...bytes]) };
}

async function runGroup(spec: ModelSpec, session: ort.InferenceSession, jobs: FloorJob[], requests: Request[]) {
  const parts = requests.map(({ inputs }) => ({ inputs, offset: 0, count: inputs[0]?.shape[0] ?? 1 }));
  const stacked = stackInputs(spec, parts);
  const results = await session.run(Object.fromEntries(stacked.map((t) => [t.name, toOrt(t)])));
  const outputs: Tensor[] = spec.outputs.map(({ name }) => {
    const t = results[name]!;
    const datatype = datatypeFromOrt(t.type) ?? 'FP32';
    return { name, datatype, shape: [...t.dims], data: t.data as Tensor['data'] };
  });
  return splitOutputs(spec, outputs, parts).map((out, i) => ({
    job: jobs[i]!,
    answer: answer(spec, out, requests[i]!.binaryOutputs),
  }));
}

async function serveModel(redis: Redis, spec: ModelSpec, session: ort.InferenceSession, stopped: () => boolean) {
  const queue = floorQueue(spec.name);
  const max = Math.max(1, spec.maxBatchSize);
  while (!stopped()) {
    // BLMPOP: every waiting job (up to a batch) in one round trip; null after a second idle.
    const popped = (await redis.callBuffer('BLMPOP', '1', '1', queue, 'RIGHT', 'COUNT', String(max))) as
      [Buffer, Buffer[]] | null;
    if (!popped) continue;
    const jobs = popped[1].map(decodeJob);
    const groups = new Map<string, { jobs: FloorJob[]; requests: Request[] }>();
    for (const job of jobs) {
      const request = requestOf(job);
      const key = compatKey(spec, request.inputs);
      const group = groups.get(key) ?? { jobs: [], requests: [] };
      group.jobs.push(job);
      group.requests.push(request);
      groups.set(key, group);
    }
    const pipeline = redis.pipeline();
    for (const group of groups.values())
      for (const { job, answer } of await runGroup(spec, session, group.jobs, group.requests))
        pipeline.publish(job.channel, encodeReply(job.id, answer.headerLength, answer.body));
    await pipeline.exec();
  }
}

export async function startFloorWorker(opts: {
  redisUrl: string;
  repository: string;
  models: string[];
  intraOpThreads: number;
}): Promise<{ stop(): Promise<void> }> {
  const repository = await loadRepository(opts.repository);
  let stopping = false;
  const loops: Promise<void>[] = [];
  const connections: Redis[] = [];
  for (const name of opts.models) {
    const spec = repository.get(name);
    if (!spec) throw new Error(`model '${name}' is not in ${opts.repository}`);
    const session = await createSession(spec.file, opts.intraOpThreads);
    const redis = new Redis(opts.redisUrl);
    connections.push(redis);
    await redis.set(readyKey(spec.name), '1');
    loops.push(serveModel(redis, spec, session, () => stopping));
  }
  return {
    stop: async () => {
      stopping = true;
      await Promise.allSettled(loops);
      for (const c of connections) c.disconnect();
    },
  };
}

function main(): void {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL must be set');
  const models = (process.env.MODELS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  runUntilSignal('floor worker', () =>
    startFloorWorker({
      redisUrl,
      repository: process.env.MODEL_REPOSITORY ?? '.run/models',
      models,
      intraOpThreads: Number(process.env.INTRA_OP_THREADS ?? '1'),
    }),
  );
}

if (isEntry(import.meta.url)) main();
