import { ServiceError } from './errors.js';

/**
 * The binary tensor data extension of the inference protocol, as Triton and its clients speak
 * it: a request or response body is a JSON header of `Inference-Header-Content-Length` bytes,
 * followed by the raw little-endian bytes of every tensor whose `parameters.binary_data_size`
 * is set, in the order those tensors appear in the header.
 */
export const BINARY_HEADER = 'inference-header-content-length';

export interface BinaryBody {
  /** The parsed JSON header. */
  header: unknown;
  /** Everything after the header. */
  data: Uint8Array;
}

/** Splits a binary-extension body; 400 when the header length or the JSON header is wrong. */
export function parseBinaryBody(body: Uint8Array, headerLength: string | undefined): BinaryBody {
  if (headerLength === undefined || !/^\d+$/.test(headerLength.trim())) {
    throw new ServiceError('bad_request', `Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(headerLength)}`);
  }
  const n = Number(headerLength.trim());
  if (n === 0 || n > body.byteLength) {
    throw new ServiceError('bad_request', `Inference-Header-Content-Length is ${n} but the body has ${body.byteLength} bytes`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(body.buffer, body.byteOffset, n).toString('utf8'));
  } catch (err) {
    throw new ServiceError('bad_request', `the JSON header (the first ${n} bytes) is malformed: ${(err as Error).message}`);
  }
  return { header, data: body.subarray(n) };
}

/** Hands out the binary section tensor by tensor, and checks that nothing is left over. */
export class BinaryCursor {
  private offset = 0;

  constructor(private readonly data: Uint8Array) {}

  take(name: string, size: unknown): Uint8Array {
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      throw new ServiceError('invalid_input', `input '${name}' parameters.binary_data_size must be a non-negative integer`);
    }
    const n = size as number;
    if (this.offset + n > this.data.byteLength) {
      throw new ServiceError('invalid_input', `input '${name}' needs ${n} bytes of binary data but only ${this.data.byteLength - this.offset} are left in the body`);
    }
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  finish(): void {
    const left = this.data.byteLength - this.offset;
    if (left > 0) throw new ServiceError('invalid_input', `the body carries ${left} bytes of binary data that no input claims`);
  }
}
