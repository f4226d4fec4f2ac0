import type { Recognized } from '../ctc-decode.js';
import { createOcrLinePipeline } from '../ocr-line-pipeline.js';
import { createOcrPipeline, type OcrLine } from '../ocr-pipeline.js';
import { createLocalInfer, type LocalInfer, type VersionChoice } from './local-infer.js';
import { boundsOf, scoreTexts, textAt, withoutSpaces, type TextScore } from './metrics.js';
import { renderLines, renderPages } from './render-test-set.js';

/** The agreement test's seeds: versions are compared on the images the reference parity is measured on. */
export const LINE_SEED = 20240601;
export const PAGE_SEED = 20240602;

export interface VersionAgreement {
  lines: { count: number; identical: number; identicalIgnoringSpaces: number; accuracy: Record<string, TextScore> };
  pages: {
    count: number;
    lines: number;
    linesIdentical: number;
    linesIdenticalIgnoringSpaces: number;
    pagesIdentical: number;
    accuracy: Record<string, TextScore>;
  };
}

const OCR_MODELS = ['ocr-det', 'ocr-cls', 'ocr-rec'];

/** The key of a version's accuracy: the version itself, or `model@version,…` for a version per model. */
export function versionKey(choice: VersionChoice): string {
  return typeof choice === 'string'
    ? choice
    : Object.entries(choice)
        .map(([m, v]) => `${m}@${v}`)
        .join(',');
}

const share = (k: number, n: number) => (n === 0 ? 0 : Math.round((k / n) * 10000) / 10000);

async function read<T>(pngs: Buffer[], predict: (body: Record<string, unknown>) => Promise<unknown[]>): Promise<T[]> {
  const out: T[] = [];
  // Eight images per request, all requests in flight: batched as the service batches them.
  const chunks = Array.from({ length: Math.ceil(pngs.length / 8) }, (_, i) => pngs.slice(i * 8, i * 8 + 8));
  for (const answer of await Promise.all(chunks.map((c) => predict({ images: c.map((p) => p.toString('base64')) }))))
    out.push(...(answer as T[]));
  return out;
}

/**
 * Reads rendered lines and pages with two versions of the OCR models (every model at the same
 * version, as a request with `version` does, or a version per model to find which model's
 * version makes a difference) and compares them with each other and with the
 * drawn text: lines read identically, lines of pages found with identical text (matched by
 * the first version's boxes), whole pages identical, and each version's character error rate.
 */
export async function compareOcrVersions(
  repoDir: string,
  versions: [VersionChoice, VersionChoice],
  sample: { lines: number; pages: number },
): Promise<VersionAgreement> {
  const keys = versions.map(versionKey);
  const infers: LocalInfer[] = [];
  try {
    for (const v of versions) infers.push(await createLocalInfer(repoDir, OCR_MODELS, 2, v));
    const [a, b] = infers as [LocalInfer, LocalInfer];
    const lines = renderLines(sample.lines, LINE_SEED);
    const linePipe = createOcrLinePipeline(repoDir);
    const lineReads = await Promise.all(
      [a, b].map((x) =>
        read<Recognized>(
          lines.map((l) => l.png),
          (body) => linePipe.predict(body, x.infer),
        ),
      ),
    );
    const pages = renderPages(sample.pages, PAGE_SEED);
    const pagePipe = createOcrPipeline(repoDir);
    const pageReads = await Promise.all(
      [a, b].map((x) =>
        read<OcrLine[]>(
          pages.map((p) => p.png),
          (body) => pagePipe.predict(body, x.infer),
        ),
      ),
    );
    let pageLines = 0;
    let linesSame = 0;
    let linesLoose = 0;
    let pagesSame = 0;
    const truth: { predicted: string; truth: string }[][] = [[], []];
    pages.forEach((page, p) => {
      const [mine, theirs] = pageReads.map((r) => r[p]!.map((l) => ({ text: l.text, rect: boundsOf(l.box) })));
      let same = mine!.length === theirs!.length;
      for (const line of mine!) {
        pageLines++;
        const other = textAt(line.rect, theirs!);
        if (withoutSpaces(other) === withoutSpaces(line.text)) linesLoose++;
        if (other === line.text) linesSame++;
        else same = false;
      }
      if (same) pagesSame++;
      for (const l of page.lines)
        [mine!, theirs!].forEach((read, i) => truth[i]!.push({ predicted: textAt(l.box, read), truth: l.text }));
    });
    return {
      lines: {
        count: lines.length,
        identical: share(
          lines.filter((_, i) => lineReads[0]![i]!.text === lineReads[1]![i]!.text).length,
          lines.length,
        ),
        identicalIgnoringSpaces: share(
          lines.filter((_, i) => withoutSpaces(lineReads[0]![i]!.text) === withoutSpaces(lineReads[1]![i]!.text))
            .length,
          lines.length,
        ),
        accuracy: Object.fromEntries(
          keys.map((v, k) => [
            v,
            scoreTexts(lines.map((l, i) => ({ predicted: lineReads[k]![i]!.text, truth: l.text }))),
          ]),
        ),
      },
      pages: {
        count: pages.length,
        lines: pageLines,
        linesIdentical: share(linesSame, pageLines),
        linesIdenticalIgnoringSpaces: share(linesLoose, pageLines),
        pagesIdentical: share(pagesSame, pages.length),
        accuracy: Object.fromEntries(keys.map((v, k) => [v, scoreTexts(truth[k]!)])),
      },
    };
  } finally {
    await Promise.all(infers.map((x) => x.close()));
  }
}
