import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CONVERTED_FILES } from './convert.js';
import { createLidPipeline, type LidResult } from './lid-pipeline.js';
import { referenceModel, sessionInfer, writeConverted } from './reference-model.js';
import { udhrTexts } from './udhr-corpus.js';

/** Texts per pipeline call, i.e. per session.run: large batches keep the whole corpus quick. */
const BATCH = 512;

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await writeConverted());
});
after(() => cleanup());

test('the ONNX pipeline agrees with fastText on every UDHR paragraph', async (t) => {
  const started = performance.now();
  const corpus = udhrTexts();
  const codes = new Set(corpus.map((c) => c.code));
  // The figures docs/models.md cites: every paragraph and heading of the 532 declarations.
  assert.equal(corpus.length, 47_543, 'texts in the corpus');
  assert.equal(codes.size, 532, 'declarations in the corpus');

  const reference = await referenceModel();
  const pipeline = await createLidPipeline(dir, { maxTexts: BATCH, maxTextLength: 100_000 });
  const { infer, calls, release } = await sessionInfer(join(dir, CONVERTED_FILES.model));
  let same = 0;
  // Scores are clamped to 1 and fastText's are not (see createLidPipeline), so the model's own
  // error is measured against the clamped reference; the raw difference is reported as well.
  let maxDelta = 0;
  let maxRawDelta = 0;
  let maxReference = 0;
  const disagreements: string[] = [];
  try {
    for (let i = 0; i < corpus.length; i += BATCH) {
      const chunk = corpus.slice(i, i + BATCH);
      const ours = (await pipeline.predict({ texts: chunk.map((c) => c.text) }, infer)) as LidResult[];
      chunk.forEach(({ code, text }, j) => {
        const [ref] = reference.predict(text, 1);
        const got = ours[j]!;
        if (got.label === ref!.label) {
          same++;
          maxDelta = Math.max(maxDelta, Math.abs(got.score - Math.min(1, ref!.prob)));
          maxRawDelta = Math.max(maxRawDelta, Math.abs(got.score - ref!.prob));
          maxReference = Math.max(maxReference, ref!.prob);
        } else {
          disagreements.push(
            `${code}: ${JSON.stringify(text.slice(0, 60))} fastText ${ref!.label} ${ref!.prob} vs ${got.label} ${got.score}`,
          );
        }
      });
    }
  } finally {
    await release();
  }
  const agreement = same / corpus.length;
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${corpus.length} texts, ${codes.size} declarations, ${calls.length} session runs`);
  t.diagnostic(
    `top-1 agreement ${same}/${corpus.length} = ${(agreement * 100).toFixed(3)}%, max |Δp| ${maxDelta.toExponential(2)} (${maxRawDelta.toExponential(2)} before clamping fastText's, which reach ${maxReference.toFixed(6)}), ${seconds.toFixed(1)} s`,
  );
  for (const d of disagreements.slice(0, 10)) t.diagnostic(d);
  assert.equal(calls.length, Math.ceil(corpus.length / BATCH), 'one session run per batch of texts');
  assert.deepEqual(disagreements.slice(0, 10), [], `top-1 agreement ${same}/${corpus.length}`);
  assert.equal(same, corpus.length, 'the same top-1 label for every text');
  assert.ok(maxDelta <= 2e-6, `max |Δp| ${maxDelta} against fastText's probability capped at 1`);
});
