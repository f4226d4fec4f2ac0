import http from 'node:http';
import { currentAuthorization } from './http.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as it arrived (still compressed when Content-Encoding says so). */
  body: Buffer;
}

/**
 * One request with exactly the given headers and bytes, as a real client sends it: fetch would
 * add a Content-Type of its own to a string body and undo response compression.
 */
export function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string | number>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string | number> = { authorization: currentAuthorization(), ...init.headers };
  if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A binary-extension body: the JSON header, then each buffer (Triton's client layout). */
export function binaryBody(header: object, ...tensors: Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.byteLength };
}

/** The JSON header and the bytes after it of a binary-extension response. */
export function splitBinaryResponse(res: RawResponse, body = res.body): { header: any; data: Buffer } {
  const n = Number(res.headers['inference-header-content-length']);
  return { header: JSON.parse(body.subarray(0, n).toString('utf8')), data: body.subarray(n) };
}
