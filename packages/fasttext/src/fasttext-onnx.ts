import { buildModel, initializer, type Initializer, type Node } from '@tessera/onnx';
import { buildHuffmanTree } from './huffman-tree.js';
import { denseRows } from './matrix-rows.js';
import type { FastTextModel } from './model-types.js';

/** Model input ids are fastText input rows shifted by one, so that id 0 can be padding. */
export const ID_OFFSET = 1;
/** The id short rows are padded with: it selects an all-zero embedding and is left out of the mean. */
export const PAD_ID = 0;
/** fastText's hierarchical softmax adds this inside every log (std_log), so probabilities carry it too. */
const LOG_EPSILON = 1e-5;
const FLOAT = 1; // TensorProto FLOAT, for Cast

/**
 * Per label, the inner nodes on its path padded to the deepest path, with the affine map
 * a + b·σ that turns "probability of going right" into the factor fastText multiplies in:
 * σ + 1e-5 for a right step, 1 - σ + 1e-5 for a left one, and exactly 1 for padding.
 */
function pathTables(counts: number[]): { depth: number; nodes: number[]; base: number[]; sign: number[] } {
  const tree = buildHuffmanTree(counts);
  const depth = Math.max(...tree.paths.map((p) => p.length));
  const nodes: number[] = [];
  const base: number[] = [];
  const sign: number[] = [];
  tree.paths.forEach((path, label) => {
    for (let d = 0; d < depth; d++) {
      const right = tree.codes[label]![d];
      nodes.push(path[d] ?? 0);
      base.push(right === undefined ? 1 : right ? LOG_EPSILON : 1 + LOG_EPSILON);
      sign.push(right === undefined ? 0 : right ? 1 : -1);
    }
  });
  return { depth, nodes, base, sign };
}

/**
 * An ONNX graph computing what fastText's predict computes for a supervised, hierarchical-
 * softmax model: ids [batch, tokens] → probs [batch, labels] for every label at once. The input
 * matrix is stored dequantized (one extra zero row for padding), so nothing is decoded at run
 * time; the hidden vector is the mean of the non-padding rows.
 */
export function fastTextToOnnx(model: FastTextModel, name = 'fasttext'): Uint8Array {
  const { args, dictionary, input, output } = model;
  if (args.model !== 'sup') throw new RangeError(`only supervised models convert (this one is '${args.model}')`);
  if (args.loss !== 'hs')
    throw new RangeError(`only hierarchical-softmax models convert (this one uses '${args.loss}')`);
  const dim = args.dim;
  const labels = dictionary.nlabels;
  const inner = labels - 1;
  if (output.rows < inner) throw new RangeError(`output matrix has ${output.rows} rows; the tree needs ${inner}`);

  const embeddings = new Float32Array((input.rows + ID_OFFSET) * dim);
  embeddings.set(denseRows(input), ID_OFFSET * dim);
  const out = denseRows(output);
  const weightsT = new Float32Array(dim * inner);
  for (let r = 0; r < inner; r++) for (let c = 0; c < dim; c++) weightsT[c * inner + r] = out[r * dim + c]!;
  const counts = dictionary.entries.slice(dictionary.nwords).map((e) => e.count);
  const paths = pathTables(counts);

  const initializers: Initializer[] = [
    { name: 'embeddings', datatype: 'FP32', dims: [input.rows + ID_OFFSET, dim], data: embeddings },
    { name: 'node_weights_t', datatype: 'FP32', dims: [dim, inner], data: weightsT },
    initializer('path_nodes', 'INT64', [labels, paths.depth], paths.nodes),
    initializer('path_base', 'FP32', [labels, paths.depth], paths.base),
    initializer('path_sign', 'FP32', [labels, paths.depth], paths.sign),
    initializer('pad_id', 'INT64', [], [PAD_ID]),
    initializer('one', 'FP32', [], [1]),
    initializer('axis1', 'INT64', [1], [1]),
    initializer('axis2', 'INT64', [1], [2]),
  ];
  const nodes: Node[] = [
    { op: 'Gather', inputs: ['embeddings', 'ids'], outputs: ['rows'], attributes: { axis: { i: 0 } } },
    { op: 'ReduceSum', inputs: ['rows', 'axis1'], outputs: ['row_sum'], attributes: { keepdims: { i: 0 } } },
    { op: 'Equal', inputs: ['ids', 'pad_id'], outputs: ['is_pad'] },
    { op: 'Not', inputs: ['is_pad'], outputs: ['is_token'] },
    { op: 'Cast', inputs: ['is_token'], outputs: ['token_flags'], attributes: { to: { i: FLOAT } } },
    { op: 'ReduceSum', inputs: ['token_flags', 'axis1'], outputs: ['token_count'], attributes: { keepdims: { i: 1 } } },
    // An all-padding row gives a zero hidden vector (uniform 1/2 at every node) rather than NaN.
    { op: 'Max', inputs: ['token_count', 'one'], outputs: ['divisor'] },
    { op: 'Div', inputs: ['row_sum', 'divisor'], outputs: ['hidden'] },
    { op: 'MatMul', inputs: ['hidden', 'node_weights_t'], outputs: ['node_logits'] },
    { op: 'Sigmoid', inputs: ['node_logits'], outputs: ['node_right'] },
    { op: 'Gather', inputs: ['node_right', 'path_nodes'], outputs: ['path_right'], attributes: { axis: { i: 1 } } },
    { op: 'Mul', inputs: ['path_right', 'path_sign'], outputs: ['path_signed'] },
    { op: 'Add', inputs: ['path_signed', 'path_base'], outputs: ['path_factors'] },
    { op: 'Log', inputs: ['path_factors'], outputs: ['path_logs'] },
    { op: 'ReduceSum', inputs: ['path_logs', 'axis2'], outputs: ['log_probs'], attributes: { keepdims: { i: 0 } } },
    { op: 'Exp', inputs: ['log_probs'], outputs: ['probs'] },
  ];
  return buildModel({
    name,
    inputs: [{ name: 'ids', datatype: 'INT64', shape: ['batch', 'tokens'] }],
    outputs: [{ name: 'probs', datatype: 'FP32', shape: ['batch', labels] }],
    nodes,
    initializers,
  });
}
