import type { AdmissionKeys } from '../keys.js';
import { RedisScript } from '../script.js';

export interface ReleaseInput {
  keys: AdmissionKeys;
  /** Members as admissionMember writes them. */
  members: readonly string[];
}

/** release-4.lua: resolves to the items released. */
export const release = new RedisScript<ReleaseInput, number>('release-4', {
  encode: ({ keys: k, members }) => ({ keys: [k.zset, k.counter, k.owners, k.usage], args: [...members] }),
  decode: (reply) => Number(reply),
});
