import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

/**
 * Generated hostile requests, each wrong in at least one way a client could get wrong (so each
 * deserves a 4xx): random JSON, OIP bodies with one fault (datatype, shape, data, nesting,
 * names, parameters), binary-extension bodies with bad lengths, wrong content types and
 * encodings, odd paths and headers, images that are not images, texts that are not texts.
 */
export interface HostileRequest {
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent without the valid key the other requests carry. */
  anonymous?: boolean;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const JSON_TYPE = { 'content-type': 'application/json' };
const INFER = '/v2/models/affine/infer';
const validInput = { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] };

/** Routes a valid key may call successfully; an odd path must never be one of these. */
export const VALID_PATHS = new Set([
  '/live',
  '/ready',
  '/health',
  '/v2',
  '/v2/health/live',
  '/v2/health/ready',
  '/whoami',
  '/predict',
  '/v2/repository/index',
]);

const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
);

/** An array nested `depth` deep around `leaf`, built without recursion. */
function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const nestedText = (depth: number) =>
  Buffer.from(
    `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`,
  );

/** One fault in an otherwise valid OIP input. */
const inputFault: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  junk.filter((d) => d !== 'FP32').map((datatype) => ({ ...validInput, datatype })),
  fc.constantFrom('INT64', 'BYTES', 'FP16', 'BOOL', 'UINT8').map((datatype) => ({ ...validInput, datatype })),
  fc
    .oneof(
      fc.tuple(fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }), fc.constant(4)),
      fc.tuple(fc.integer({ min: -(2 ** 40), max: -1 }), fc.constant(4)),
      fc.tuple(fc.constant(1), fc.integer({ min: 5, max: 2 ** 40 })),
      fc.constant([1.5, 4]),
      fc.constant(['1', '4']),
      fc.constant([]),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 9 }),
      junk,
    )
    .filter((shape) => JSON.stringify(shape) !== '[1,4]')
    .map((shape) => ({ ...validInput, shape })),
  fc
    .oneof(
      fc.constantFrom<unknown>(
        [1, 2, 3],
        [1, 2, 3, 4, 5],
        ['NaN', 2, 3, 4],
        ['Infinity', 2, 3, 4],
        [null, 2, 3, 4],
        [{}, 2, 3, 4],
        [[1, 2], [3]],
        'abcd',
        // eslint-disable-next-line no-loss-of-precision -- JSON's 1e400, which parses to Infinity, on purpose
        1e400,
        {},
        true,
      ),
      fc
        .array(fc.oneof(fc.double({ noDefaultInfinity: false }), fc.string()), { minLength: 1, maxLength: 8 })
        .filter((d) => d.length !== 4 || d.some((x) => typeof x !== 'number')),
      fc.integer({ min: 3, max: 40 }).map((depth) => nested(depth, [1, 2, 3, 4])),
    )
    .map((data) => ({ ...validInput, data })),
  fc
    .string()
    .filter((n) => n !== 'x')
    .map((name) => ({ ...validInput, name })),
  fc.constant({ ...validInput, data: undefined }),
  fc
    .record({ binary_data_size: fc.integer({ min: -5, max: 1 << 20 }) })
    .map((parameters) => ({ ...validInput, parameters })),
);

const brokenOip: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    inputFault.map((input) => ({ inputs: [input] })),
    fc.constantFrom<unknown>({ inputs: [] }, { inputs: {} }, { inputs: 'x' }, {}, [], 'inputs', 42, null, {
      inputs: [validInput, validInput],
    }),
    // A priority past the levels means the default; one that is no level at all is wrong.
    fc
      .oneof(fc.integer({ max: -1 }), fc.constantFrom(1.5, '1', true, []))
      .map((priority) => ({ inputs: [validInput], parameters: { priority } })),
    fc
      .string()
      .filter((n) => n !== 'y' && n !== 'sum')
      .map((name) => ({ inputs: [validInput], outputs: [{ name }] })),
    junk
      .filter((p) => typeof p !== 'object' || p === null || Array.isArray(p))
      .map((parameters) => ({ inputs: [validInput], parameters })),
  )
  .map((body) => ({ kind: 'oip', method: 'POST', path: INFER, headers: JSON_TYPE, body: json(body) }));

const rawJson: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    fc.integer({ min: 1000, max: 30000 }).map(nestedText),
    fc
      .integer({ min: 1000, max: 30000 })
      .map((depth) => Buffer.from(`{"inputs":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
    fc.integer({ min: 100, max: 5000 }).map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
    fc
      .constantFrom(
        '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[NaN,1,2,3]}]}',
        '{"inputs":[',
        '{"inputs":[]}}',
        '',
        ' ',
        'null',
        '\u0000',
        '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,Infinity]}]}',
      )
      .map((t) => Buffer.from(t)),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  )
  .map((body) => ({ kind: 'raw-json', method: 'POST', path: INFER, headers: JSON_TYPE, body }));

/** /predict's nested-array shorthand, nested far past any input's rank. */
const deepPredict: fc.Arbitrary<HostileRequest> = fc.integer({ min: 3, max: 30000 }).map((depth) => ({
  kind: 'raw-json',
  method: 'POST',
  path: '/predict',
  headers: JSON_TYPE,
  body: Buffer.from(`{"model":"affine","inputs":${'['.repeat(depth)}1${']'.repeat(depth)}}`),
}));

const randomJson: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom(INFER, '/predict', '/v2/models/token-sum/infer', '/v2/models/affine/versions/1/infer'),
    fc.jsonValue({ maxDepth: 5 }),
  )
  .map(([path, value]) => ({ kind: 'random-json', method: 'POST', path, headers: JSON_TYPE, body: json(value) }));

/** Binary-extension bodies whose header length or tensor sizes do not add up. */
const binaryExtension: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.oneof(
      fc
        .integer({ min: -100, max: 100 })
        .filter((d) => d !== 0)
        .map(String),
      fc.constantFrom('-1', 'abc', '1e3', '99999999999999999999', '', ' 12', '0x10'),
    ),
    fc.integer({ min: 0, max: 64 }),
    fc.uint8Array({ maxLength: 64 }),
  )
  .map(([delta, size, bytes]) => {
    const header = json({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: size } }],
    });
    const length =
      /^-?\d+$/.test(delta) && Math.abs(Number(delta)) <= 100 ? String(header.length + Number(delta)) : delta;
    // Even a right length is wrong when the tensor bytes do not make 16.
    const tensor =
      size === 16 && bytes.length === 16 ? Buffer.concat([Buffer.from(bytes), Buffer.alloc(1)]) : Buffer.from(bytes);
    return {
      kind: 'binary',
      method: 'POST',
      path: INFER,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': length },
      body: Buffer.concat([header, tensor]),
    };
  });

const valid = json({ inputs: [validInput] });
/** Small gzip bodies that inflate to 1, 2 and 4 MiB; compressed once, sent many times. */
const BOMBS = [1, 2, 4].map((mb) => gzipSync(Buffer.alloc(mb << 20, 32)));

/**
 * A body of another type under its own Content-Type. The API reads any body as JSON whatever its
 * type says (as Triton does), so what makes these wrong is the body, not the header.
 */
const wrongType: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'image/png',
        '*/*',
        'application/jsonx',
      ),
      fc.stringMatching(/^[a-z]{1,8}\/[a-z+.-]{1,12}$/).filter((t) => !t.includes('json')),
    ),
    fc.constantFrom(
      'x=1&y=2',
      '<inputs><x>1</x></inputs>',
      'plain text',
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
      '\u0089PNG',
    ),
  )
  .map(([type, text]) => ({
    kind: 'content-type',
    method: 'POST',
    path: INFER,
    headers: { 'content-type': type },
    body: Buffer.from(text),
  }));

const wrongEncoding: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 100 }).map((b) => ({ encoding: 'gzip', body: Buffer.from(b) })),
    fc
      .constantFrom('compress', 'x-unknown', 'gzip, gzip', 'identity, br')
      .map((encoding) => ({ encoding, body: gzipSync(valid) })),
    // Inflates to well over the body limit: refused while inflating, with the limit's 413.
    fc.constantFrom(...BOMBS).map((body) => ({ encoding: 'gzip', body })),
  )
  .map(({ encoding, body }) => ({
    kind: 'content-encoding',
    method: 'POST',
    path: INFER,
    headers: { ...JSON_TYPE, 'content-encoding': encoding },
    body,
  }));

const pathChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%".split(''),
);
const oddPath: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom(
      '/v2/models/affine',
      '/predict',
      '/v2',
      '/whoami',
      '/admin/models/affine',
      '/v2/models/affine/infer',
      '/live',
    ),
    fc.oneof(
      fc.constantFrom(
        '/',
        '//',
        '%2F',
        ';x',
        '%00',
        '/%E0%A4%A',
        '/..',
        '/%2e%2e/admin',
        '%',
        '%ZZ',
        '/%C0%AF',
        '.json',
        '?',
      ),
      fc.string({ unit: pathChar, minLength: 1, maxLength: 30 }),
    ),
    fc.constantFrom<'GET' | 'POST'>('GET', 'POST'),
  )
  .map(([base, suffix, method]) => ({
    kind: 'path',
    method,
    path: `${base}${suffix}`,
    headers: method === 'POST' ? JSON_TYPE : {},
    ...(method === 'POST' ? { body: Buffer.from('{}') } : {}),
  }))
  .filter((r) => {
    const path = r.path.split('?')[0]!;
    const model = /^\/(v2|admin)\/models\/[^/]+(\/versions\/[^/]+)?(\/ready)?$/.test(path);
    return !VALID_PATHS.has(path) && !model && !path.startsWith('/admin/queues');
  });

const badEncodedParam: fc.Arbitrary<HostileRequest> = fc
  .constantFrom('%E0%A4%A', '%', '%FF', '%C0%AF', '%ED%A0%80', '%E0%A4%A/versions/1')
  .map((name) => ({ kind: 'param', method: 'GET', path: `/v2/models/${name}`, headers: {} }));

/** Credentials that are not valid: no key, junk, a well-formed unknown key, a malformed cookie. */
const badCredentials: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.oneof(
      fc
        .string({ unit: fc.constantFrom(...'abcXYZ019_-+/=% .'.split('')), maxLength: 80 })
        .map((v) => ({ authorization: v })),
      fc
        .string({ unit: fc.constantFrom(...'abcXYZ019_-'.split('')), maxLength: 80 })
        .map((v) => ({ authorization: `Bearer ${v}` })),
      fc.constantFrom(
        { authorization: `Bearer tsk_000000000000_${'A'.repeat(43)}` },
        { authorization: 'Basic dXNlcjpwYXNz' },
        { authorization: 'Bearer' },
      ),
      fc
        .constantFrom('%E0%A4%A', '%', '%%%', 'a=b=c', '"quoted"', '')
        .map((v) => ({ cookie: `tessera_session=${v}; tessera_admin=${v}` })),
    ),
    fc.constantFrom('/v2/models/affine', '/admin/models/affine', '/admin/queues/', '/whoami', '/predict'),
  )
  .map(([headers, path]) => ({ kind: 'credentials', method: 'GET', path, headers, anonymous: true }));

const notImages: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom('ocr', 'ocr-line'),
    fc.oneof(
      fc.array(
        fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
        { minLength: 1, maxLength: 3 },
      ),
      fc
        .uint8Array({ maxLength: 200 })
        .map((b) => [
          Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(b)]).toString(
            'base64',
          ),
        ]),
      fc
        .uint8Array({ maxLength: 200 })
        .map((b) => [Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from(b)]).toString('base64')]),
      fc.uint8Array({ maxLength: 100 }).map((b) => [`data:image/png;base64,${Buffer.from(b).toString('base64')}`]),
      fc.constantFrom<unknown>([], 'abc', [1, 2], [null], [{}], ['!!!not base64!!!'], Array(20).fill('aGVsbG8=')),
    ),
  )
  .map(([model, images]) => ({
    kind: 'images',
    method: 'POST',
    path: '/predict',
    headers: JSON_TYPE,
    body: json({ model, images }),
  }));

const notTexts: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    fc.constantFrom<unknown>('hello', [], [1, 2], [null], [{}], [['a']], Array(65).fill('a'), ['x'.repeat(10_001)]),
    junk.filter((t) => !Array.isArray(t)),
  )
  .map((texts) => ({
    kind: 'texts',
    method: 'POST',
    path: '/predict',
    headers: JSON_TYPE,
    body: json({ model: 'lid176', texts }),
  }));

/** Odd headers on an otherwise refused request: they must not turn a 4xx into anything else. */
const oddHeaders = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-for',
    'x-forwarded-proto',
    'x-request-id',
    'idempotency-key',
    'accept',
    'accept-encoding',
    'origin',
    'sec-fetch-site',
    'range',
    'if-none-match',
    'expect-ct',
    'x-http-method-override',
  ),
  fc.string({ unit: fc.constantFrom(...'abc019 ,;=%:/._-'.split('')), maxLength: 300 }),
  { maxKeys: 3 },
);

export const hostileRequest: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.oneof(
      { arbitrary: brokenOip, weight: 6 },
      { arbitrary: rawJson, weight: 2 },
      { arbitrary: deepPredict, weight: 1 },
      { arbitrary: randomJson, weight: 3 },
      { arbitrary: binaryExtension, weight: 2 },
      { arbitrary: wrongType, weight: 1 },
      { arbitrary: wrongEncoding, weight: 1 },
      { arbitrary: oddPath, weight: 3 },
      { arbitrary: badEncodedParam, weight: 1 },
      { arbitrary: badCredentials, weight: 2 },
      { arbitrary: notImages, weight: 2 },
      { arbitrary: notTexts, weight: 1 },
    ),
    oddHeaders,
  )
  .map(([req, extra]) => ({ ...req, headers: { ...extra, ...req.headers } }));
