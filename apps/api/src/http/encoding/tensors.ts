import { fromHalfBits, type ResponseOutput, type Tensor, type WireTensor, fromWire } from '@tessera/contract';

/** JSON-friendly flat values: 64-bit integers beyond 2^53 would lose precision as numbers. */
export function toJsonData(t: Tensor): number[] | boolean[] | string[] {
  const d = t.data;
  if (t.datatype === 'BOOL') return Array.from(d as Uint8Array, (v) => v !== 0);
  if (t.datatype === 'FP16') return Array.from(d as Uint16Array, fromHalfBits);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    return Array.from(d, (v) =>
      v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString(),
    ) as number[];
  }
  return Array.from(d as ArrayLike<number>);
}

export function toResponseOutputs(wire: WireTensor[]): ResponseOutput[] {
  return wire.map((w) => {
    const t = fromWire(w);
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: toJsonData(t) };
  });
}

/**
 * Outputs for a binary-extension response: those named in `binary` carry
 * `parameters.binary_data_size` and travel as raw little-endian bytes (in `chunks`, in output
 * order); the others keep their JSON data.
 */
export function toBinaryOutputs(
  wire: WireTensor[],
  binary: ReadonlySet<string>,
): { outputs: ResponseOutput[]; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const outputs = wire.map((w): ResponseOutput => {
    if (!binary.has(w.name)) {
      const t = fromWire(w);
      return { name: t.name, datatype: t.datatype, shape: t.shape, data: toJsonData(t) };
    }
    const bytes = Buffer.from(w.b64, 'base64');
    chunks.push(bytes);
    return { name: w.name, datatype: w.datatype, shape: w.shape, parameters: { binary_data_size: bytes.byteLength } };
  });
  return { outputs, chunks };
}

/** Nested arrays of `shape` from flat values (row-major). */
export function nest(flat: readonly unknown[], shape: readonly number[], offset = 0): unknown {
  if (shape.length === 0) return flat[offset];
  const [n, ...rest] = shape as [number, ...number[]];
  const stride = rest.reduce((a, b) => a * b, 1);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = nest(flat, rest, offset + i * stride);
  return out;
}
