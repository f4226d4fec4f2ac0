import type { Sharp, SharpOptions } from 'sharp';

type SharpFactory = (input?: Buffer | Uint8Array, options?: SharpOptions) => Sharp;
let loading: Promise<SharpFactory> | undefined;

/**
 * sharp (libvips) loaded on the first image, not at start-up: its native library adds about
 * 18 MB to every API replica, which a replica serving only tensors and texts never needs.
 * libvips' operation cache is off: every image is decoded once, and the cache would keep the
 * last ones' pixels (up to 50 MB) alive after their request.
 */
export function loadSharp(): Promise<SharpFactory> {
  loading ??= import('sharp').then((m) => {
    m.default.cache(false);
    return m.default as unknown as SharpFactory;
  });
  return loading;
}
