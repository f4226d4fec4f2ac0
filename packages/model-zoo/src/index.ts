export { prepareRepository, FINGERPRINT_FILE, type PrepareResult, type PreparedModel } from './prepare-repository.js';
export { catalogue, TEST_MODELS, type CatalogueOptions, type ModelSet } from './catalogue.js';
export { DEFAULT_MEMORY_HOG_REPEATS } from './models/memory-hog.js';
export { GATHER_TABLE_SIZE } from './models/gather.js';
export { greedyCtcModel, ppOcrSource, REC_IDS, REC_SCORES } from './models/pp-ocr.js';
export type { CostOptions } from './models/cost.js';
export type { ZooFile, ZooModel } from './zoo-model.js';
export { seededRandom } from './seeded-random.js';
export { defaultVersionLabels, type QuantizedRecipe } from './quantized-recipe.js';
