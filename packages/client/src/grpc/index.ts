export { GrpcInferenceClient, type GrpcClientOptions } from './client.js';
export { InferStream } from './stream.js';
export * from './proto.js';
