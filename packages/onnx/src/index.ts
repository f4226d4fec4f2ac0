export { buildModel, irVersionFor, nodeProto, valueInfo } from './build-model.js';
export { readSignature, signatureOf } from './read-signature.js';
export { readModel, type ModelContents } from './read-model.js';
export { initializer } from './initializer.js';
export { ProtoError } from './proto-error.js';
export { decodeModel, defaultOpset, encodeModel, fromBigInt, onnx, toBigInt, toNumber, type Onnx } from './proto.js';
export { fromTensorProto, toTensorProto } from './tensor-proto.js';
export type { AttributeValue, Graph, Initializer, Node, Signature, SigTensor, ValueInfo } from './types.js';
export { editGraph, type GraphEdit } from './edit-graph.js';
