/**
 * Every request of a benchmark carries a different input, so that the full stack's response
 * cache is consulted and misses (as it would for real traffic), while the tensors keep their
 * shape and size. The request body is a template with two markers in the first tensor's data.
 */
export type Vary = { kind: 'float' } | { kind: 'ids'; offset: number; rows: number };

export const MARKERS = ['__V1__', '__V2__'] as const;

/** The two values that make request `k` (k >= 0) unique, as JSON numbers. */
export function varyValues(vary: Vary, k: number): [string, string] {
  if (vary.kind === 'float') {
    // Six decimals each: 10^12 distinct requests, every value in [0, 1).
    return [((k % 1e6) / 1e6).toFixed(6), ((Math.floor(k / 1e6) % 1e6) / 1e6).toFixed(6)];
  }
  return [String(vary.offset + (k % vary.rows)), String(vary.offset + (Math.floor(k / vary.rows) % vary.rows))];
}

/** A body maker: each call returns the next unique request body. */
export function bodyMaker(template: string, vary: Vary, start = 0): () => string {
  const [a, rest] = splitOnce(template, MARKERS[0]);
  const [b, c] = splitOnce(rest, MARKERS[1]);
  let k = start;
  return () => {
    const [v1, v2] = varyValues(vary, k++);
    return a + v1 + b + v2 + c;
  };
}

function splitOnce(s: string, marker: string): [string, string] {
  const i = s.indexOf(marker);
  if (i < 0) throw new Error(`request template lacks ${marker}`);
  return [s.slice(0, i), s.slice(i + marker.length)];
}

/**
 * The same for a binary-extension body (JSON header, then raw tensor bytes): the two values at
 * the start of the first tensor's bytes are overwritten per request.
 */
export interface BinaryTemplate {
  /** The JSON header. */
  header: string;
  /** Base64 of the tensor bytes. */
  data: string;
  /** Element type of the first tensor. */
  element: 'FP32' | 'INT64' | 'other';
}

export function binaryBodyMaker(t: BinaryTemplate, vary: Vary, start = 0): () => Buffer {
  const header = Buffer.from(t.header);
  const data = Buffer.from(t.data, 'base64');
  let k = start;
  return () => {
    const [v1, v2] = varyValues(vary, k++);
    const body = Buffer.concat([header, data]);
    const at = header.byteLength;
    if (t.element === 'FP32') {
      body.writeFloatLE(Number(v1), at);
      body.writeFloatLE(Number(v2), at + 4);
    } else if (t.element === 'INT64') {
      body.writeBigInt64LE(BigInt(v1), at);
      body.writeBigInt64LE(BigInt(v2), at + 8);
    } else {
      body.writeUInt32LE(k >>> 0, at);
    }
    return body;
  };
}
