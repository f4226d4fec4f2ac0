/**
 * How a model's quantized version is made from its FP32 version 1 (the quantizer package
 * carries it out; see prepareQuantizedVersions there). The mode per model is the better of
 * dynamic and static as measured in docs/quantization.md.
 */
export interface QuantizedRecipe {
  /** The version directory written (the FP32 original stays version 1). */
  version: string;
  mode: 'dynamic' | 'static';
  perChannel: boolean;
  /** Static mode: how activation ranges are read from the calibration inputs. */
  method?: 'minmax' | 'percentile';
  /** Percentile method: the quantile kept (default 0.9999). */
  percentile?: number;
  /** Node names kept FP32: the layers whose quantization changed the model's answers (docs/quantization.md). */
  exclude?: readonly string[];
  /** Only these op types are quantized (e.g. ['MatMul']); all the quantizer covers when absent. */
  opTypes?: readonly string[];
  /** Static mode: Conv weights UINT8 with the full 8-bit range instead of 7-bit INT8. */
  uint8ConvWeights?: boolean;
  /** Calibration inputs: UDHR sentences for lid176, rendered pages or lines for PP-OCR. */
  calibration: 'udhr' | 'ocr-det' | 'ocr-cls' | 'ocr-rec';
  /** Calibration inputs drawn (also the inputs the output is checked on). */
  samples: number;
  /** Bumped when the quantizer's output for this recipe changes. */
  revision: number;
}

/** Both versions are served: the FP32 original and its quantized form (Triton's `version_policy`). */
export const SERVE_ALL_VERSIONS = { all: {} } as const;

/** The config labels naming each provider's default version (see defaultVersion in model-repository). */
export function defaultVersionLabels(
  recipe: QuantizedRecipe,
  cpuDefault: 'quantized' | 'original',
): Record<string, string> {
  return { default_version_cpu: cpuDefault === 'quantized' ? recipe.version : '1', default_version_cuda: '1' };
}
