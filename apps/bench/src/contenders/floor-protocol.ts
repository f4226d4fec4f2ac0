/**
 * What the floor's API and worker say to each other through Redis, read in one place. A job is
 * one list entry: `<reply channel>\n<id>\n<Inference-Header-Content-Length>\n` and the request's
 * body as it arrived. A reply is one pub/sub message on the replica's channel:
 * `<id>\n<Inference-Header-Content-Length>\n` and the answer's body (JSON, or a JSON header and
 * raw output bytes when the length is not empty).
 */
const NL = 0x0a;

/** The list a model's jobs are pushed to. */
export function floorQueue(model: string): string {
  return `floor:queue:${model}`;
}

/** The channel a replica's answers are published on. */
export function replyChannel(replicaId: string): string {
  return `floor:reply:${replicaId}`;
}

/** Set by the worker once the model's session is loaded. */
export function readyKey(model: string): string {
  return `floor:ready:${model}`;
}

export interface FloorJob {
  channel: string;
  id: string;
  headerLength: string;
  body: Buffer;
}

export function encodeJob(channel: string, id: string, headerLength: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${channel}\n${id}\n${headerLength}\n`), body]);
}

export function decodeJob(job: Buffer): FloorJob {
  const a = job.indexOf(NL);
  const b = job.indexOf(NL, a + 1);
  const c = job.indexOf(NL, b + 1);
  if (a < 0 || b < 0 || c < 0) throw new RangeError('a floor job needs three header lines');
  return {
    channel: job.toString('latin1', 0, a),
    id: job.toString('latin1', a + 1, b),
    headerLength: job.toString('latin1', b + 1, c),
    body: job.subarray(c + 1),
  };
}

export function encodeReply(id: string, headerLength: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${id}\n${headerLength}\n`), body]);
}

export function splitReply(message: Buffer): { id: string; headerLength: string; body: Buffer } {
  const a = message.indexOf(NL);
  const b = message.indexOf(NL, a + 1);
  return {
    id: message.toString('latin1', 0, a),
    headerLength: message.toString('latin1', a + 1, b),
    body: message.subarray(b + 1),
  };
}
