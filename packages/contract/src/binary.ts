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
  /** Everything after the header; the header's own bytes before it may be reused. */
  data: BinarySection;
}

/**
 * The binary section of a request body, handed over with its memory: validation may move each
 * tensor to an aligned offset within it (and within the `reusable` bytes just before it, the
 * already-parsed header) instead of copying it out. A plain Uint8Array is left untouched.
 */
export interface BinarySection {
  bytes: Uint8Array;
  /** Bytes right before `bytes` in the same buffer that nothing reads any more. */
  reusable: number;
}

/** Splits a binary-extension body; 400 when the header length or the JSON header is wrong. */
export function parseBinaryBody(body: Uint8Array, headerLength: string | undefined): BinaryBody {
  if (headerLength === undefined || !/^\d+$/.test(headerLength.trim())) {
    throw new ServiceError(
      'bad_request',
      `Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(headerLength)}`,
    );
  }
  const n = Number(headerLength.trim());
  if (n === 0 || n > body.byteLength) {
    throw new ServiceError(
      'bad_request',
      `Inference-Header-Content-Length is ${n} but the body has ${body.byteLength} bytes`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(body.buffer, body.byteOffset, n).toString('utf8'));
  } catch (err) {
    throw new ServiceError(
      'bad_request',
      `the JSON header (the first ${n} bytes) is malformed: ${(err as Error).message}`,
    );
  }
  return { header, data: { bytes: body.subarray(n), reusable: n } };
}

/**
 * Hands out the binary section tensor by tensor, and checks that nothing is left over. Given
 * the section's memory (a BinarySection), it aligns each tensor in place where it can.
 */
export class BinaryCursor {
  private readonly data: Uint8Array;
  private offset = 0;
  /** Absolute offset in the buffer below which nothing may be written; -1: nothing may be. */
  private floor: number;

  constructor(section: Uint8Array | BinarySection) {
    const owned = !(section instanceof Uint8Array);
    this.data = owned ? section.bytes : section;
    this.floor = owned ? this.data.byteOffset - Math.max(0, Math.min(section.reusable, this.data.byteOffset)) : -1;
  }

  /**
   * The next `size` bytes, starting at a multiple of `alignment` in their buffer when the
   * section's memory could be rearranged for it: misaligned bytes move towards the front, over
   * bytes already consumed. Otherwise they are returned where they are, aligned or not (an
   * aligned tensor followed by one that needs a wider alignment can leave that one no room).
   */
  take(name: string, size: unknown, alignment = 1): Uint8Array {
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      throw new ServiceError(
        'invalid_input',
        `input '${name}' parameters.binary_data_size must be a non-negative integer`,
      );
    }
    const n = size as number;
    if (this.offset + n > this.data.byteLength) {
      throw new ServiceError(
        'invalid_input',
        `input '${name}' needs ${n} bytes of binary data but only ${this.data.byteLength - this.offset} are left in the body`,
      );
    }
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    if (this.floor < 0) return out;
    const start = out.byteOffset;
    // As far towards the front as alignment allows, leaving the most room for the next tensor.
    const target = Math.ceil(this.floor / alignment) * alignment;
    if (start % alignment === 0 || target > start) {
      this.floor = start + n; // stays where it is: aligned already, or no room (the caller copies)
      return out;
    }
    // Moving towards the front never overwrites bytes not yet handed out (they lie behind).
    const whole = new Uint8Array(out.buffer);
    whole.copyWithin(target, start, start + n);
    this.floor = target + n;
    return whole.subarray(target, target + n);
  }

  finish(): void {
    const left = this.data.byteLength - this.offset;
    if (left > 0)
      throw new ServiceError('invalid_input', `the body carries ${left} bytes of binary data that no input claims`);
  }
}
