/**
 * What padding a batch may cost. Requests that share a batch of a model with pad rules are
 * padded, along those axes, to the longest of them; without a bound, one long request would
 * make every short one in its batch as long (a 5-token text padded to 50,000 tokens, 64 times
 * over). Two rules keep that in check, checked each time a request would join a batch:
 * - lengths within `maxRatio`: on every axis, the longest request is at most this many times
 *   the shortest, so requests of very different lengths go to different batches;
 * - the bytes the batch allocates for padding alone are at most `maxBytes`.
 */
export interface PaddingPolicy {
  maxBytes: number;
  maxRatio: number;
}

export const DEFAULT_PADDING: Readonly<PaddingPolicy> = { maxBytes: 16 * 1024 * 1024, maxRatio: 4 };

/** One request's rows: per input, the non-batch dimensions and the bytes of one element. */
export interface RowShape {
  dims: readonly (readonly number[])[];
  elementBytes: readonly number[];
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Rows of one shape taken into a batch. */
export interface ShapedRows {
  shape: RowShape;
  count: number;
}

/** Whether these rows may share one batch under `policy` (one shape alone always may). */
export function paddingAllowed(parts: readonly ShapedRows[], policy: PaddingPolicy): boolean {
  const first = parts[0];
  if (!first || parts.length === 1) return true;
  let bytes = 0;
  for (let i = 0; i < first.shape.dims.length; i++) {
    const rank = first.shape.dims[i]!.length;
    const longest = Array.from({ length: rank }, (_, axis) => Math.max(...parts.map((p) => p.shape.dims[i]![axis]!)));
    for (let axis = 0; axis < rank; axis++) {
      const shortest = Math.min(...parts.map((p) => p.shape.dims[i]![axis]!));
      if (longest[axis]! > policy.maxRatio * Math.max(1, shortest)) return false;
    }
    const padded = product(longest);
    for (const p of parts) bytes += p.count * (padded - product(p.shape.dims[i]!)) * p.shape.elementBytes[i]!;
  }
  return bytes <= policy.maxBytes;
}
