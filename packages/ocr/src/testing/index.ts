/** Test support shared with other packages: rendering the OCR test set and comparing model versions on it. */
export { compareOcrVersions, LINE_SEED, PAGE_SEED, versionKey, type VersionAgreement } from './version-agreement.js';
export { createLocalInfer, type LocalInfer, type VersionChoice } from './local-infer.js';
export { renderLines, renderPages, type LineSample, type PageSample } from './render-test-set.js';
export { scoreTexts, type TextScore } from './metrics.js';
