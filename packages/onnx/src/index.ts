export { buildModel } from './build-model.js';
export { readSignature } from './read-signature.js';
export { readModel, type ModelContents } from './read-model.js';
export { initializer } from './initializer.js';
export { ProtoError } from './protobuf-reader.js';
export type { AttributeValue, Graph, Initializer, Node, Signature, SigTensor, ValueInfo } from './types.js';
export { editGraph, type GraphEdit } from './edit-graph.js';
