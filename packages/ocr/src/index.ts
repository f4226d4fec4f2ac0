export { createOcrLinePipeline } from './ocr-line-pipeline.js';
export { createOcrPipeline, DROP_SCORE, type OcrLine } from './ocr-pipeline.js';
export { DEFAULT_OCR_LIMITS, resolveLimits, type OcrLimits } from './limits.js';
export type { Recognized } from './ctc-decode.js';
export { DecodeGate } from './decode-gate.js';
