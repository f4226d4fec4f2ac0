export { quantizeModel, type QuantizeMode, type QuantizeOptions, type QuantizeResult } from './quantize-model.js';
export { calibrate, type CalibrationMethod, type Feeds, type Range } from './calibrate.js';
export { formatReport, type NodeReport } from './report.js';
export { assertSameSignature, compareOutputs, type OutputDifference } from './validate.js';
export { QUANT_OPSET } from './upgrade-opset.js';
export { prepareQuantizedVersions } from './prepare-versions.js';
export {
  quantizeInRepository,
  QUANTIZER_REVISION,
  type RepositoryTarget,
  type RepositoryOutcome,
} from './quantize-in-repository.js';
export { calibrationInputs, syntheticInputs, type CalibrationSet } from './calibration-inputs.js';
export { QUANTIZATION_FILE, type VersionRecord } from './write-version.js';
