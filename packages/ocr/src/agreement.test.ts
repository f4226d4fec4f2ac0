import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { prepareRepository } from '@tessera/model-zoo';
import { DEFAULT_OCR_LIMITS } from './limits.js';
import { createOcrLinePipeline } from './ocr-line-pipeline.js';
import { createOcrPipeline, type OcrLine } from './ocr-pipeline.js';
import type { Recognized } from './ctc-decode.js';
import { testFonts } from './testing/fonts.js';
import { createLocalInfer, type LocalInfer } from './testing/local-infer.js';
import { boundsOf, scoreTexts, textAt, withoutSpaces, type Rect } from './testing/metrics.js';
import { createReferenceOcr, type ReferenceLine, type ReferenceOcr } from './testing/reference-ocr.js';
import { renderLines, renderPages } from './testing/render-test-set.js';
import { SAMPLE_KINDS } from './testing/text-samples.js';

// Agreement with @gutenye/ocr-node, which runs the same PP-OCRv4 files with onnxruntime-node,
// on a test set drawn here with a fixed seed: the text must be identical, spaces included (the
// figures with whitespace ignored are reported too). The counts docs/models.md cites are asserted
// exactly; accuracy against the drawn text is measured and written out, not asserted.
const LINES = 240;
const PAGES = 24;
const LINE_SEED = 20240601;
const PAGE_SEED = 20240602;
const REPORT =
  process.env.OCR_REPORT_FILE ??
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../bench-results/ocr-accuracy.json');

let repo: string;
let local: LocalInfer;
let reference: ReferenceOcr;
const report: Record<string, unknown> = { lines: LINES, pages: PAGES, seeds: { lines: LINE_SEED, pages: PAGE_SEED } };

before(async () => {
  testFonts(); // fails with the package to install when the Chinese fonts are missing
  repo = await mkdtemp(join(tmpdir(), 'tessera-ocr-'));
  await prepareRepository(repo, { only: 'demo' });
  // Version 1 (FP32) pinned: the reference runs the same FP32 files, and the counts docs/models.md
  // cites were measured with them (the CPU default of ocr-det is its INT8 version 2).
  local = await createLocalInfer(repo, ['ocr-det', 'ocr-cls', 'ocr-rec'], 2, '1');
  reference = await createReferenceOcr();
});

after(async () => {
  await local?.close();
  if (repo) await rm(repo, { recursive: true, force: true });
  await mkdir(dirname(REPORT), { recursive: true });
  await writeFile(REPORT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`OCR agreement and accuracy (written to ${REPORT}):\n${JSON.stringify(report, null, 2)}`);
});

/** Requests of at most the default image limit, all in flight at once as separate clients would send them. */
async function inRequests<T>(
  images: Buffer[],
  predict: (body: Record<string, unknown>) => Promise<unknown[]>,
): Promise<T[]> {
  const size = DEFAULT_OCR_LIMITS.maxImages;
  const chunks: Buffer[][] = [];
  for (let i = 0; i < images.length; i += size) chunks.push(images.slice(i, i + size));
  const answers = await Promise.all(
    chunks.map((chunk) => predict({ images: chunk.map((png) => png.toString('base64')) })),
  );
  return answers.flat() as T[];
}

async function sequentially<T>(items: Buffer[], run: (png: Buffer) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const item of items) out.push(await run(item));
  return out;
}

const share = (k: number, n: number) => Math.round((k / n) * 10000) / 10000;

function byKind(samples: ReadonlyArray<{ kind: string; text: string }>, read: ReadonlyArray<{ text: string }>) {
  return Object.fromEntries(
    SAMPLE_KINDS.map((kind) => [
      kind,
      scoreTexts(samples.flatMap((s, i) => (s.kind === kind ? [{ predicted: read[i]!.text, truth: s.text }] : []))),
    ]),
  );
}

test('line recognition reads exactly what the reference reads, with the same scores, on all 240 lines', async () => {
  const samples = renderLines(LINES, LINE_SEED);
  const pipeline = createOcrLinePipeline(repo);
  const started = performance.now();
  const ours = await inRequests<Recognized>(
    samples.map((s) => s.png),
    (body) => pipeline.predict(body, local.infer),
  );
  const oursMs = performance.now() - started;
  const theirs = await sequentially<ReferenceLine>(
    samples.map((s) => s.png),
    (png) => reference.line(png),
  );

  const same = samples.filter((_, i) => withoutSpaces(ours[i]!.text) === withoutSpaces(theirs[i]!.text)).length;
  const identical = samples.filter((_, i) => ours[i]!.text === theirs[i]!.text).length;
  const differing = samples.flatMap((s, i) =>
    ours[i]!.text === theirs[i]!.text ? [] : [{ truth: s.text, ours: ours[i]!.text, reference: theirs[i]!.text }],
  );
  const scoreGap = Math.max(
    ...samples.map((_, i) => (ours[i]!.text === theirs[i]!.text ? Math.abs(ours[i]!.score - theirs[i]!.score) : 0)),
  );
  report.lineRecognition = {
    agreementIgnoringSpaces: share(same, LINES),
    agreementExact: share(identical, LINES),
    accuracy: {
      ours: scoreTexts(samples.map((s, i) => ({ predicted: ours[i]!.text, truth: s.text }))),
      reference: scoreTexts(samples.map((s, i) => ({ predicted: theirs[i]!.text, truth: s.text }))),
      oursByKind: byKind(samples, ours),
      referenceByKind: byKind(samples, theirs),
    },
    oursWrongIgnoringSpaces: samples.flatMap((s, i) =>
      withoutSpaces(ours[i]!.text) === withoutSpaces(s.text) ? [] : [{ truth: s.text, ours: ours[i]!.text }],
    ),
    largestScoreDifferenceOnIdenticalText: scoreGap,
    oursMs: Math.round(oursMs),
    differing,
  };
  // The figures docs/models.md cites: 240 of 240 lines identical, their scores equal too.
  assert.deepEqual(
    differing.slice(0, 5),
    [],
    `${identical} of ${LINES} lines read identically (${same} with spaces ignored)`,
  );
  assert.equal(identical, LINES);
  assert.equal(scoreGap, 0, 'the same score as the reference on every identical line');
});

test("full-page OCR finds 234 of the reference's 235 lines with identical text; the other is '90%' turned", async () => {
  const pages = renderPages(PAGES, PAGE_SEED);
  const pipeline = createOcrPipeline(repo);
  const started = performance.now();
  const ours = await inRequests<OcrLine[]>(
    pages.map((p) => p.png),
    (body) => pipeline.predict(body, local.infer),
  );
  const oursMs = performance.now() - started;
  const theirs = await sequentially<ReferenceLine[]>(
    pages.map((p) => p.png),
    (png) => reference.page(png),
  );

  let refLines = 0;
  let found = 0;
  let foundExact = 0;
  const missed: unknown[] = [];
  const truthPairs: {
    ours: { predicted: string; truth: string }[];
    reference: { predicted: string; truth: string }[];
  } = { ours: [], reference: [] };
  pages.forEach((page, p) => {
    const mine = ours[p]!.map((l) => ({ text: l.text, rect: boundsOf(l.box) }));
    const refs = theirs[p]!.map((l) => ({ text: l.text, rect: boundsOf(l.box ?? []) }));
    for (const ref of refs) {
      refLines++;
      const text = textAt(ref.rect, mine);
      if (withoutSpaces(text) === withoutSpaces(ref.text)) found++;
      if (text === ref.text) foundExact++;
      else missed.push({ page: p, reference: ref.text, ours: text });
    }
    for (const line of page.lines) {
      const box: Rect = line.box;
      truthPairs.ours.push({ predicted: textAt(box, mine), truth: line.text });
      truthPairs.reference.push({ predicted: textAt(box, refs), truth: line.text });
    }
  });
  report.fullPage = {
    referenceLines: refLines,
    truthLines: truthPairs.ours.length,
    agreementIgnoringSpaces: share(found, refLines),
    agreementExact: share(foundExact, refLines),
    accuracy: { ours: scoreTexts(truthPairs.ours), reference: scoreTexts(truthPairs.reference) },
    oursMs: Math.round(oursMs),
    missed,
    batches: Object.fromEntries(
      [...local.batches].map(([model, sizes]) => [
        model,
        { batches: sizes.length, items: sizes.reduce((a, b) => a + b, 0) },
      ]),
    ),
  };
  // The figures docs/models.md cites, the one differing line included: the direction classifier
  // reads `90%` as upside down and turns it (the reference has no classifier).
  assert.equal(refLines, 235, `lines the reference found on ${PAGES} pages`);
  assert.deepEqual(
    missed,
    [{ page: 20, reference: '90%', ours: '%06' }],
    `${foundExact} of ${refLines} found identically`,
  );
  assert.equal(foundExact, 234);
});

test('upside-down pages read like upright ones: the direction classifier turns 41 of their 43 lines', async () => {
  const pages = renderPages(4, PAGE_SEED + 1);
  const pipeline = createOcrPipeline(repo);
  const turned = await Promise.all(pages.map((p) => sharp(p.png).rotate(180).png().toBuffer()));
  const upright = await inRequests<OcrLine[]>(
    pages.map((p) => p.png),
    (body) => pipeline.predict(body, local.infer),
  );
  const flipped = await inRequests<OcrLine[]>(turned, (body) => pipeline.predict(body, local.infer));
  let lines = 0;
  let same = 0;
  pages.forEach((_, p) => {
    const theirs = new Set(flipped[p]!.map((l) => withoutSpaces(l.text)));
    for (const line of upright[p]!) {
      lines++;
      if (theirs.has(withoutSpaces(line.text))) same++;
    }
  });
  report.upsideDown = { pages: pages.length, uprightLines: lines, readTheSame: share(same, lines) };
  // The figure docs/models.md cites: 41 of the 43 upright lines read the same upside down (0.954).
  assert.deepEqual({ lines, same }, { lines: 43, same: 41 }, 'upright lines, and those read the same upside down');
});
