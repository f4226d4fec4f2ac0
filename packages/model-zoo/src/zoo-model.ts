import type { QuantizedRecipe } from './quantized-recipe.js';

/** A file of a generated model: bytes to write, or a file to copy (never linked, so the repository stands alone). */
export type ZooFile = { bytes: Uint8Array } | { copyFrom: string };

/** One model the zoo can write into a repository. */
export interface ZooModel {
  name: string;
  /** 'test' models are tiny synthetic graphs; 'demo' models are real networks. */
  set: 'test' | 'demo';
  /** The config.json value (snake_case, as on disk). */
  config: Record<string, unknown>;
  /**
   * Everything that determines the written files, besides the config: generator revision,
   * options, source package version. A model is rewritten only when this or the config changes.
   */
  source: Record<string, unknown>;
  /** Files relative to the model directory, e.g. '1/model.onnx'. */
  files(): Record<string, ZooFile>;
  /** A quantized version prepared from version 1 beside it, when the model has one. */
  quantized?: QuantizedRecipe;
}
