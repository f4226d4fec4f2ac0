export * from './datatypes.js';
export * from './tensor.js';
export * from './model-spec.js';
export * from './errors.js';
export * from './jobs.js';
export * from './oip.js';
export * from './validate.js';
export * from './pipeline.js';
