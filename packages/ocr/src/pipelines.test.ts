import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ServiceError, type InferCall, type InferAnswer, type Tensor } from '@tessera/contract';
import { createOcrLinePipeline } from './ocr-line-pipeline.js';
import { createOcrPipeline, type OcrLine } from './ocr-pipeline.js';

// The pipelines against a scripted `infer`: no model runs here, the calls and the decoding are
// what is checked. Dictionary: a, b, c, so classes are blank, a, b, c, space.
let repo: string;
before(async () => {
  repo = await mkdtemp(join(tmpdir(), 'tessera-ocr-unit-'));
  await mkdir(join(repo, 'ocr-rec'), { recursive: true });
  await writeFile(join(repo, 'ocr-rec', 'ppocr_keys_v1.txt'), 'a\nb\nc\n');
});
after(() => rm(repo, { recursive: true, force: true }));

const answer = (...outputs: Tensor[]): InferAnswer => ({
  outputs,
  timing: { queueMs: 0, computeMs: 0, batchSize: 1 },
  provider: 'cpu',
});
const f32 = (name: string, shape: number[], data: Float32Array): Tensor => ({ name, datatype: 'FP32', shape, data });

/** Recogniser output (greedy CTC ids and scores) for `width`: the given classes with probability p, then blanks. */
function ctc(width: number, classes: number[], p: number): Tensor[] {
  const steps = Math.max(1, Math.ceil((width - 4) / 8));
  const ids = new BigInt64Array(steps);
  const scores = new Float32Array(steps);
  for (let t = 0; t < steps; t++) {
    const cls = classes[t] ?? 0;
    ids[t] = BigInt(cls);
    scores[t] = cls === 0 ? 0.99 : p;
  }
  return [{ name: 'ids', datatype: 'INT64', shape: [1, steps], data: ids }, f32('scores', [1, steps], scores)];
}

const png = (width: number, height: number, grey = 255) =>
  sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } })
    .png()
    .toBuffer()
    .then((b) => b.toString('base64'));

test('ocr-line: one recogniser call per image at its own width, greedy CTC outputs decoded with the dictionary', async () => {
  const pipeline = createOcrLinePipeline(repo);
  assert.deepEqual([pipeline.name, pipeline.input, pipeline.models], ['ocr-line', 'images', ['ocr-rec']]);
  const calls: InferCall[] = [];
  const infer = async (call: InferCall) => {
    calls.push(call);
    const width = call.inputs[0]!.shape[3]!;
    return answer(...(width === 96 ? ctc(width, [1, 1, 0, 2, 4, 3], 0.8) : ctc(width, [3], 0.5)));
  };
  const results = await pipeline.predict({ images: [await png(40, 20), await png(60, 40)] }, infer);
  // resizing runs off the event loop, so the calls may come in either order
  const seen = calls.map((c) => [c.model, c.inputs[0]!.name, c.inputs[0]!.shape, c.outputs]);
  assert.deepEqual(
    seen.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    [
      ['ocr-rec', 'x', [1, 3, 48, 72], ['ids', 'scores']],
      ['ocr-rec', 'x', [1, 3, 48, 96], ['ids', 'scores']],
    ],
  );
  assert.equal((results[0] as { text: string }).text, 'ab c');
  assert.equal((results[0] as { score: number }).score, Math.fround(0.8));
  assert.deepEqual(results[1], { text: 'c', score: 0.5 });
  // line pixels reach the recogniser scaled to [0, 1]: white is 1
  assert.ok(Array.from(calls[0]!.inputs[0]!.data as Float32Array).every((v) => v === 1));
});

test('invalid input is refused before any inference', async () => {
  let called = 0;
  const infer = async () => {
    called++;
    throw new Error('not reached');
  };
  await assert.rejects(
    createOcrLinePipeline(repo).predict({ images: ['nope!'] }, infer),
    /images\[0\]: not valid base64/,
  );
  await assert.rejects(createOcrPipeline(repo).predict({ images: [] }, infer), /'images' is empty/);
  assert.equal(called, 0);
});

test('a missing dictionary, a model with other classes or the old probability output is a server-side error', async () => {
  const missing = createOcrLinePipeline(join(repo, 'nowhere'));
  await assert.rejects(
    missing.predict({ images: [await png(8, 8)] }, async () => answer(...ctc(8, [], 0))),
    (e: unknown) => {
      assert.ok(e instanceof ServiceError && e.code === 'internal');
      assert.match(e.message, /ppocr_keys_v1\.txt/);
      return true;
    },
  );
  const wrong = createOcrLinePipeline(repo);
  await assert.rejects(
    wrong.predict({ images: [await png(8, 8)] }, async () => answer(...ctc(48, [6], 0.9))),
    (e: unknown) => {
      assert.ok(e instanceof ServiceError && e.code === 'internal');
      assert.match(e.message, /does not match its dictionary: class 6 at step 0 is outside the 5 classes/);
      return true;
    },
  );
  const old = f32('softmax_11.tmp_0', [1, 5, 5], new Float32Array(25));
  await assert.rejects(
    wrong.predict({ images: [await png(8, 8)] }, async () => answer(old)),
    /did not return output 'ids' as INT64 of rank 2/,
  );
});

test('ocr: detection, direction and recognition calls, upside-down crops turned, weak lines dropped', async () => {
  // A 64x64 page: two text rows. The upper row is dark on its left half only, the lower is uniform grey.
  const page = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      { input: { create: { width: 16, height: 10, channels: 3, background: { r: 0, g: 0, b: 0 } } }, left: 8, top: 10 },
      {
        input: { create: { width: 32, height: 10, channels: 3, background: { r: 128, g: 128, b: 128 } } },
        left: 8,
        top: 40,
      },
    ])
    .png()
    .toBuffer();
  const models: string[] = [];
  const infer = async (call: InferCall): Promise<InferAnswer> => {
    models.push(call.model);
    const x = call.inputs[0]!;
    if (call.model === 'ocr-det') {
      assert.deepEqual([x.shape, call.outputs], [[1, 3, 64, 64], ['sigmoid_0.tmp_0']]);
      const map = new Float32Array(64 * 64);
      for (const top of [10, 40]) for (let y = top; y < top + 10; y++) map.fill(0.9, y * 64 + 8, y * 64 + 40);
      // the page reaches the detector scaled to [0, 1]: white is 1
      assert.equal((x.data as Float32Array)[0], 1);
      return answer(f32('sigmoid_0.tmp_0', [1, 1, 64, 64], map));
    }
    if (call.model === 'ocr-cls') {
      assert.deepEqual(x.shape, [1, 3, 48, 192]);
      return answer(f32('softmax_0.tmp_0', [1, 2], new Float32Array([0.05, 0.95])));
    }
    // Recogniser: which half of the (blue plane of the) line is darker tells how it was turned.
    const [, , h, w] = x.shape as [number, number, number, number];
    const data = x.data as Float32Array;
    let left = 0;
    let right = 0;
    for (let y = 0; y < h; y++)
      for (let i = 0; i < w; i++) {
        if (i < w / 2) left += data[y * w + i]!;
        else right += data[y * w + i]!;
      }
    if (Math.abs(left - right) / (h * w) < 0.05) return answer(...ctc(w, [3], 0.3)); // the grey row: weak
    return answer(...ctc(w, right < left ? [1, 0, 2] : [2, 0, 1], 0.9));
  };
  const pipeline = createOcrPipeline(repo);
  assert.deepEqual(pipeline.models, ['ocr-det', 'ocr-cls', 'ocr-rec']);
  const [lines] = (await pipeline.predict({ images: [page.toString('base64')] }, infer)) as OcrLine[][];
  assert.deepEqual(models.sort(), ['ocr-cls', 'ocr-cls', 'ocr-det', 'ocr-rec', 'ocr-rec']);
  assert.equal(lines!.length, 1);
  const [line] = lines!;
  assert.equal(line!.text, 'ab');
  assert.equal(line!.score, Math.fround(0.9));
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = line!.box;
  assert.ok(
    x0 <= 8 && y0 <= 10 && x2 >= 39 && y2 >= 19 && x1 === x2 && x0 === x3 && y0 === y1 && y2 === y3,
    JSON.stringify(line!.box),
  );
});

test('a page without text gives an empty list and calls only the detector', async () => {
  const models: string[] = [];
  const infer = async (call: InferCall) => {
    models.push(call.model);
    return answer(f32('sigmoid_0.tmp_0', [1, 1, 32, 32], new Float32Array(32 * 32)));
  };
  assert.deepEqual(await createOcrPipeline(repo).predict({ images: [await png(30, 30)] }, infer), [[]]);
  assert.deepEqual(models, ['ocr-det']);
});

/** A detector map with `rows` dark bands across a [1, 1, size, size] page, and a recogniser reading 'a'. */
function striped(size: number, rows: number) {
  return async (call: InferCall): Promise<InferAnswer> => {
    if (call.model === 'ocr-det') {
      const map = new Float32Array(size * size);
      for (let r = 0; r < rows; r++)
        for (let y = 10 * r + 2; y < 10 * r + 8; y++) map.fill(0.9, y * size + 4, y * size + size - 4);
      return answer(f32('sigmoid_0.tmp_0', [1, 1, size, size], map));
    }
    if (call.model === 'ocr-cls') return answer(f32('softmax_0.tmp_0', [1, 2], new Float32Array([0.95, 0.05])));
    return answer(...ctc(call.inputs[0]!.shape[3] as number, [1], 0.9));
  };
}

test('a page with more text boxes than the limit is refused before any line is read', async () => {
  const calls: string[] = [];
  const detector = striped(128, 12);
  const infer = (call: InferCall) => (calls.push(call.model), detector(call));
  const pipeline = createOcrPipeline(repo, { maxBoxesPerPage: 5 });
  await assert.rejects(
    pipeline.predict({ images: [await png(128, 128)] }, infer),
    (e: unknown) =>
      e instanceof ServiceError &&
      e.status === 400 &&
      /images\[0\]: 12 text boxes found, over the limit of 5 per page/.test(e.message),
  );
  assert.deepEqual(calls, ['ocr-det']);
  assert.equal(
    (
      (await createOcrPipeline(repo, { maxBoxesPerPage: 12 }).predict(
        { images: [await png(128, 128)] },
        striped(128, 12),
      )) as OcrLine[][]
    )[0]!.length,
    12,
  );
});

test('a page read shrunk reports its boxes in the pixels it was sent at', async () => {
  // 128 x 128 read at 64 x 64: every coordinate doubles back.
  const first = async (pipeline: ReturnType<typeof createOcrPipeline>, side: number): Promise<OcrLine> =>
    ((await pipeline.predict({ images: [await png(side, side)] }, striped(64, 1))) as OcrLine[][])[0]![0]!;
  const full = await first(createOcrPipeline(repo), 64);
  const shrunk = await first(createOcrPipeline(repo, { workingPixels: 64 * 64 }), 128);
  assert.deepEqual(
    shrunk.box,
    full.box.map(([x, y]) => [2 * x, 2 * y]),
  );
});
