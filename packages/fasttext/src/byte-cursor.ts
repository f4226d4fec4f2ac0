/** Thrown when bytes do not form a fastText model the reader understands. */
export class FastTextFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FastTextFormatError';
  }
}

/**
 * Sequential little-endian reads over a model file. fastText writes its structs field by field
 * with the host's layout (x86/ARM: little-endian, int32 enums, one-byte bools), so a cursor of
 * fixed-width reads is all the format needs.
 */
export class ByteCursor {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  private need(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.bytes.byteLength) {
      throw new FastTextFormatError(
        `truncated file: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int32(what: string): number {
    return this.view.getInt32(this.need(4, what), true);
  }

  /** int64 fields hold counts and sizes far below 2^53; larger ones mean a corrupt file. */
  int64(what: string): number {
    const v = this.view.getBigInt64(this.need(8, what), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new FastTextFormatError(`${what} is out of range: ${v}`);
    }
    return Number(v);
  }

  float64(what: string): number {
    return this.view.getFloat64(this.need(8, what), true);
  }

  uint8(what: string): number {
    return this.view.getUint8(this.need(1, what));
  }

  int8(what: string): number {
    return this.view.getInt8(this.need(1, what));
  }

  bool(what: string): boolean {
    return this.uint8(what) !== 0;
  }

  /** A copy of the next n bytes. */
  bytesOf(n: number, what: string): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.slice(at, at + n);
  }

  /** n float32 values, copied so the result is aligned whatever the offset in the file. */
  float32s(n: number, what: string): Float32Array {
    const at = this.need(n * 4, what);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(at + i * 4, true);
    return out;
  }

  /** Bytes up to (not including) the next NUL, which is consumed. */
  cstring(what: string): Uint8Array {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) throw new FastTextFormatError(`truncated file: ${what} at offset ${this.pos} has no terminating NUL`);
    const out = this.bytes.slice(this.pos, end);
    this.pos = end + 1;
    return out;
  }
}
