export type Base64Result = { ok: true; bytes: Buffer } | { ok: false; problem: string };

const DATA_URL = /^data:([^,]*),/i;
const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * The bytes of a base64 string or a base64 `data:` URL. Node's decoder skips characters it
 * does not know, so the alphabet is checked first; the size is checked from the length
 * before anything is allocated.
 */
export function decodeBase64Image(value: string, maxBytes: number): Base64Result {
  let text = value;
  const url = DATA_URL.exec(text);
  if (url) {
    if (!/;base64$/i.test(url[1]!))
      return { ok: false, problem: 'data: URL is not base64-encoded (expected data:image/png;base64,...)' };
    text = text.slice(url[0].length);
  }
  // Bigger than any whitespace-free encoding of maxBytes could be: refuse before scanning.
  const estimate = Math.floor((text.length * 3) / 4);
  if (estimate > maxBytes * 2 + 1024)
    return { ok: false, problem: `about ${estimate} bytes, over the limit of ${maxBytes} bytes per image` };
  if (/\s/.test(text)) text = text.replace(/\s+/g, '');
  if (text.length === 0) return { ok: false, problem: 'empty string' };
  if (!(STANDARD.test(text) || URL_SAFE.test(text)))
    return { ok: false, problem: 'not valid base64 (unexpected characters)' };
  const padded = text.endsWith('=');
  if ((padded && text.length % 4 !== 0) || text.length % 4 === 1)
    return { ok: false, problem: 'not valid base64 (bad length)' };
  const padding = padded ? text.length - text.replace(/=+$/, '').length : 0;
  const size = Math.floor((text.length * 3) / 4) - padding;
  if (size > maxBytes) return { ok: false, problem: `${size} bytes, over the limit of ${maxBytes} bytes per image` };
  return { ok: true, bytes: Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64') };
}
