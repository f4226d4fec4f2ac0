/** The repository models the OCR pipelines call, with the tensor names their graphs use. */
export const DET = { model: 'ocr-det', input: 'x', output: 'sigmoid_0.tmp_0' } as const;
export const CLS = { model: 'ocr-cls', input: 'x', output: 'softmax_0.tmp_0' } as const;
/**
 * The recogniser as the model zoo prepares it: greedy CTC outputs (best class per step, INT64,
 * and its probability, FP32) instead of the full [T, 6625] probabilities.
 */
export const REC = { model: 'ocr-rec', input: 'x', ids: 'ids', scores: 'scores' } as const;

/** Character dictionary shipped beside the recognition model (see the model zoo's ocr-rec). */
export const REC_DICTIONARY = 'ppocr_keys_v1.txt';
