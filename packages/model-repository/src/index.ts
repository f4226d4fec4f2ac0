export { loadRepository, selectVersions, type RepositoryOptions } from './load-repository.js';
export { ModelRepository } from './model-repository.js';
export {
  parseModelConfig,
  checkModelConfig,
  modelConfigSchema,
  type ModelConfig,
  type TensorConfig,
} from './model-config.js';
export { resolveModelSpec } from './resolve-spec.js';
export { RepositoryError, type RepositoryProblem } from './repository-error.js';
export { defaultVersion, DEFAULT_VERSION_LABEL, type Provider } from './default-version.js';
