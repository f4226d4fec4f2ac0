/**
 * Minimal protocol buffers encoder: just the wire types ONNX needs (varint, 32-bit, and
 * length-delimited). Messages are built bottom-up: a nested message is finished to bytes and
 * then written as a length-delimited field of its parent.
 */
const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.size += this.scratch.length;
    this.scratch = [];
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(BigInt(field * 8 + wire));
  }

  /** Negative values take ten bytes, two's complement, as protobuf int32/int64 require. */
  private rawVarint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  varint(field: number, value: number | bigint | boolean): this {
    const v = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
    this.tag(field, WIRE_VARINT);
    this.rawVarint(v);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(b[0]!, b[1]!, b[2]!, b[3]!);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(BigInt(value.byteLength));
    this.flushScratch();
    // Large payloads (initializers) are referenced, not copied, until finish().
    this.chunks.push(value);
    this.size += value.byteLength;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** Bytes that are already encoded fields (tags included), e.g. copied from another message. */
  raw(encoded: Uint8Array): this {
    this.flushScratch();
    this.chunks.push(encoded);
    this.size += encoded.byteLength;
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}
