import type { Datatype, TensorData } from '@tessera/contract';

/** A graph input or output: `shape` entries are fixed sizes or symbolic dimension names. */
export interface ValueInfo {
  name: string;
  datatype: Datatype;
  shape: (number | string)[];
}

/** A constant tensor stored in the model; `data` is row-major and holds product(dims) elements. */
export interface Initializer {
  name: string;
  datatype: Datatype;
  dims: number[];
  data: TensorData;
}

/**
 * Attribute values are tagged because a JavaScript number cannot say whether ONNX should
 * see it as an INT or a FLOAT, and operators are strict about it.
 */
export type AttributeValue =
  | { i: number | bigint }
  | { f: number }
  | { s: string }
  | { ints: (number | bigint)[] }
  | { floats: number[] }
  | { strings: string[] }
  | { t: Initializer };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Operator domain; the default ONNX domain when absent. */
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  initializers: Initializer[];
}

/** A graph input or output as read back from a model file. */
export interface SigTensor {
  name: string;
  /** Undefined when the element type has no Open Inference Protocol datatype (e.g. STRING). */
  datatype: Datatype | undefined;
  /** The raw ONNX TensorProto.DataType value (0 when the model does not say). */
  elemType: number;
  /** Symbolic and unknown dimensions are -1; empty when the rank is unknown. */
  shape: number[];
  /** Symbolic dimension names by position (undefined for fixed or anonymous dimensions). */
  dimParams: (string | undefined)[];
  rankKnown: boolean;
}

export interface Signature {
  inputs: SigTensor[];
  outputs: SigTensor[];
  /** Version of the default ONNX operator set the model imports (0 if none). */
  opset: number;
  producer: string;
  irVersion: number;
}
