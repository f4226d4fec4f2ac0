/**
 * Minimal protocol buffers decoder over a byte array. Length-delimited fields come back as
 * subarray views, so skipping or slicing a multi-megabyte initializer never copies it.
 */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const textDecoder = new TextDecoder();

export class ProtoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoError';
  }
}

export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Byte offset of the next read. */
  get position(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.buf.byteLength;
  }

  /** Next field tag, or undefined at the end of the message. */
  tag(): { field: number; wire: number } | undefined {
    if (this.done) return undefined;
    const key = this.varint();
    return { field: Math.floor(key / 8), wire: key % 8 };
  }

  /** A varint as a number; exact up to 2^53, with ten-byte negatives decoded as int64. */
  varint(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.byteLength) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    // Past 56 bits doubles lose the low bits that tell e.g. -1 from 2^64: go exact.
    this.pos = start;
    return Number(this.varintBig());
  }

  /** A varint as an exact signed 64-bit bigint. */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.byteLength) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new ProtoError('varint longer than ten bytes');
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const len = this.varint();
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return textDecoder.decode(this.bytes());
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN: {
        const len = this.varint();
        this.need(len);
        this.pos += len;
        return;
      }
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtoError(`unsupported wire type ${wire} at byte ${this.pos}`);
    }
  }

  /**
   * Reads a repeated scalar field whose value may be packed (one length-delimited run) or not
   * (one tag per value): proto2 writers use the latter, proto3 writers the former.
   */
  repeated<T>(wire: number, one: (r: ProtoReader) => T, out: T[]): void {
    if (wire === WIRE_LEN) {
      const inner = new ProtoReader(this.bytes());
      while (!inner.done) out.push(one(inner));
    } else {
      out.push(one(this));
    }
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.byteLength) {
      throw new ProtoError(`field of ${n} bytes at byte ${this.pos} runs past the end (${this.buf.byteLength})`);
    }
  }
}

/**
 * The first length-delimited field `field` of a message read as a string ('' when absent),
 * skipping every other field without decoding it: the name of a ValueInfoProto (field 1) or of
 * a TensorProto (field 8) without touching its payload.
 */
export function stringField(message: Uint8Array, field: number): string {
  const r = new ProtoReader(message);
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === field && t.wire === WIRE_LEN) return r.string();
    r.skip(t.wire);
  }
  return '';
}
