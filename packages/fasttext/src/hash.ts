export const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/**
 * fastText's 32-bit FNV-1a over bytes [start, end). Released models were trained with each
 * byte read as a *signed* char and sign-extended before the xor, so bytes >= 0x80 flip the
 * top 24 bits too; ids only match the trained rows with that quirk kept.
 */
export function fastTextHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = fnvStep(h, bytes[i]!);
  return h;
}

/** One byte of the hash: `fastTextHash(b.subarray(0, n + 1)) === fnvStep(fastTextHash(b.subarray(0, n)), b[n])`. */
export function fnvStep(h: number, byte: number): number {
  const signExtended = byte >= 0x80 ? byte | 0xffffff00 : byte;
  return Math.imul((h ^ signExtended) >>> 0, FNV_PRIME) >>> 0;
}
