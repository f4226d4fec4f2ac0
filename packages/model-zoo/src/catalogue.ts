import { affine } from './models/affine.js';
import { cost, type CostOptions } from './models/cost.js';
import { gather } from './models/gather.js';
import { lid176 } from './models/lid176.js';
import { memoryHog } from './models/memory-hog.js';
import { ocrCls, ocrDet, ocrRec } from './models/pp-ocr.js';
import { tokenSum } from './models/token-sum.js';
import type { ZooModel } from './zoo-model.js';

/**
 * 'test': the generated models for tests, examples and benchmarks (affine, token-sum, gather,
 * memory-hog, cost); 'demo': the served text and image models; 'all': both; 'production': the
 * served models only, and preparing it removes test models an earlier preparation left (a
 * production repository must not offer a model built to exhaust memory or fail on purpose).
 */
export type ModelSet = 'test' | 'demo' | 'all' | 'production';

/** Names of the test-only models (see ModelSet). */
export const TEST_MODELS: readonly string[] = ['affine', 'token-sum', 'gather', 'memory-hog', 'cost'];

export interface CatalogueOptions {
  /** Which models to include; 'all' by default. */
  only?: ModelSet;
  /** Tile repeats of memory-hog (each item needs 16 x repeats bytes); 64 MiB per item by default. */
  memoryHogRepeats?: number;
  cost?: CostOptions;
}

/** The zoo's models, test ones first. */
export function catalogue(options: CatalogueOptions = {}): ZooModel[] {
  const only = options.only ?? 'all';
  const models: ZooModel[] = [];
  if (only === 'test' || only === 'all')
    models.push(affine(), tokenSum(), gather(), memoryHog(options.memoryHogRepeats), cost(options.cost));
  if (only !== 'test') models.push(ocrDet(), ocrCls(), ocrRec(), lid176());
  return models;
}
