/** In-memory form of a fastText .bin / .ftz file, field for field. */

export type LossName = 'hs' | 'ns' | 'softmax' | 'ova';
export type ModelName = 'cbow' | 'sg' | 'sup';

export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  loss: LossName;
  model: ModelName;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
  /** Whether the output matrix is product-quantized (stored after the input matrix). */
  qout: boolean;
}

export interface DictionaryEntry {
  /** The entry decoded as UTF-8 (for display; lookups use the bytes). */
  word: string;
  /** The raw bytes fastText hashes and compares. */
  bytes: Uint8Array;
  count: number;
  type: 'word' | 'label';
}

export interface FastTextDictionary {
  nwords: number;
  nlabels: number;
  ntokens: number;
  /** -1: never pruned; 0: pruned with no char n-grams kept; > 0: number of kept n-gram buckets. */
  pruneIdxSize: number;
  /** Words first (ids 0..nwords-1), then labels; labels sorted by falling count. */
  entries: DictionaryEntry[];
  /** Kept n-gram bucket (hash % bucket) → its row among the n-gram rows (after the words). */
  pruneIndex: Map<number, number>;
}

/** fastText's ProductQuantizer: 256 centroids per sub-quantizer, the last one possibly narrower. */
export interface ProductQuantizer {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  /** dim x 256 values. */
  centroids: Float32Array;
}

export interface DenseMatrix {
  kind: 'dense';
  rows: number;
  cols: number;
  /** rows x cols, row-major. */
  data: Float32Array;
}

export interface QuantMatrix {
  kind: 'quant';
  rows: number;
  cols: number;
  /** Rows were normalised before quantization; their norms are quantized separately by `npq`. */
  qnorm: boolean;
  /** nsubq codes per row. */
  codes: Uint8Array;
  pq: ProductQuantizer;
  normCodes?: Uint8Array;
  npq?: ProductQuantizer;
}

export type FastTextMatrix = DenseMatrix | QuantMatrix;

export interface FastTextModel {
  version: number;
  args: FastTextArgs;
  dictionary: FastTextDictionary;
  /** Word rows, then n-gram rows (bucket rows, or only the kept ones when pruned). */
  input: FastTextMatrix;
  /** One row per label (softmax, ova) or per inner tree node (hs). */
  output: FastTextMatrix;
}
