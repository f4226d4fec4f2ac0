export { readModel, FASTTEXT_MAGIC, FASTTEXT_VERSION } from './read-model.js';
export { FastTextFormatError } from './byte-cursor.js';
export { matrixRow, denseRows } from './matrix-rows.js';
export { fastTextHash } from './hash.js';
export { FastTextTokenizer, LABEL_PREFIX, type TokenizerSpec } from './tokenizer.js';
export { buildHuffmanTree, type HuffmanTree } from './huffman-tree.js';
export { fastTextToOnnx, ID_OFFSET, PAD_ID } from './fasttext-onnx.js';
export { tokenizerFile, tokenizerFromFile, type TokenizerFile } from './tokenizer-file.js';
export { convertFastText, CONVERTED_FILES, type ConvertedModel } from './convert.js';
export { encodeTexts, idsTensor, type IdEncoding } from './encode-batch.js';
export {
  createLidPipeline,
  LID_MODEL,
  type LidPipelineOptions,
  type LidResult,
  type LanguageScore,
} from './lid-pipeline.js';
export type * from './model-types.js';
