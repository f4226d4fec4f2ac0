import { ByteCursor, FastTextFormatError } from './byte-cursor.js';
import type {
  DictionaryEntry,
  FastTextArgs,
  FastTextDictionary,
  FastTextMatrix,
  FastTextModel,
  LossName,
  ModelName,
  ProductQuantizer,
} from './model-types.js';

export const FASTTEXT_MAGIC = 793712314;
/** The newest file version fastText writes; older ones (11) load with a compatibility tweak. */
export const FASTTEXT_VERSION = 12;
const KSUB = 256;

const LOSSES: Record<number, LossName> = { 1: 'hs', 2: 'ns', 3: 'softmax', 4: 'ova' };
const MODELS: Record<number, ModelName> = { 1: 'cbow', 2: 'sg', 3: 'sup' };

const utf8 = new TextDecoder();

function readArgs(c: ByteCursor): Omit<FastTextArgs, 'qout'> {
  const dim = c.int32('dim');
  const ws = c.int32('ws');
  const epoch = c.int32('epoch');
  const minCount = c.int32('minCount');
  const neg = c.int32('neg');
  const wordNgrams = c.int32('wordNgrams');
  const lossId = c.int32('loss');
  const modelId = c.int32('model');
  const loss = LOSSES[lossId];
  const model = MODELS[modelId];
  if (!loss) throw new FastTextFormatError(`unknown loss ${lossId}`);
  if (!model) throw new FastTextFormatError(`unknown model ${modelId}`);
  const bucket = c.int32('bucket');
  const minn = c.int32('minn');
  const maxn = c.int32('maxn');
  const lrUpdateRate = c.int32('lrUpdateRate');
  const t = c.float64('t');
  return { dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, t };
}

function readDictionary(c: ByteCursor): FastTextDictionary {
  const size = c.int32('dictionary size');
  const nwords = c.int32('nwords');
  const nlabels = c.int32('nlabels');
  const ntokens = c.int64('ntokens');
  const pruneIdxSize = c.int64('pruneidx_size');
  if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size) {
    throw new FastTextFormatError(`inconsistent dictionary: size ${size}, nwords ${nwords}, nlabels ${nlabels}`);
  }
  const entries: DictionaryEntry[] = [];
  for (let i = 0; i < size; i++) {
    const bytes = c.cstring(`dictionary entry ${i}`);
    const count = c.int64(`count of entry ${i}`);
    const typeId = c.int8(`type of entry ${i}`);
    if (typeId !== 0 && typeId !== 1) throw new FastTextFormatError(`entry ${i} has unknown type ${typeId}`);
    const type = typeId === 0 ? 'word' : 'label';
    // fastText keeps words before labels (its sort puts type first); ids rely on it.
    if ((type === 'word') !== i < nwords) throw new FastTextFormatError(`entry ${i} is a ${type} out of place`);
    entries.push({ word: utf8.decode(bytes), bytes, count, type });
  }
  const pruneIndex = new Map<number, number>();
  for (let i = 0; i < pruneIdxSize; i++) pruneIndex.set(c.int32('prune index key'), c.int32('prune index value'));
  return { nwords, nlabels, ntokens, pruneIdxSize, entries, pruneIndex };
}

function readQuantizer(c: ByteCursor, what: string): ProductQuantizer {
  const dim = c.int32(`${what} dim`);
  const nsubq = c.int32(`${what} nsubq`);
  const dsub = c.int32(`${what} dsub`);
  const lastdsub = c.int32(`${what} lastdsub`);
  if (dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 || (nsubq - 1) * dsub + lastdsub !== dim) {
    throw new FastTextFormatError(
      `${what}: inconsistent product quantizer (dim ${dim}, nsubq ${nsubq}, dsub ${dsub}, lastdsub ${lastdsub})`,
    );
  }
  return { dim, nsubq, dsub, lastdsub, centroids: c.float32s(dim * KSUB, `${what} centroids`) };
}

function readMatrix(c: ByteCursor, quantized: boolean, what: string): FastTextMatrix {
  if (!quantized) {
    const rows = c.int64(`${what} rows`);
    const cols = c.int64(`${what} cols`);
    return { kind: 'dense', rows, cols, data: c.float32s(rows * cols, `${what} values`) };
  }
  const qnorm = c.bool(`${what} qnorm`);
  const rows = c.int64(`${what} rows`);
  const cols = c.int64(`${what} cols`);
  const codesize = c.int32(`${what} codesize`);
  const codes = c.bytesOf(codesize, `${what} codes`);
  const pq = readQuantizer(c, `${what} quantizer`);
  if (pq.dim !== cols || codesize !== rows * pq.nsubq) {
    throw new FastTextFormatError(
      `${what}: ${codesize} codes do not fit ${rows} rows of ${pq.nsubq} sub-quantizers over ${cols} columns`,
    );
  }
  if (!qnorm) return { kind: 'quant', rows, cols, qnorm, codes, pq };
  const normCodes = c.bytesOf(rows, `${what} norm codes`);
  const npq = readQuantizer(c, `${what} norm quantizer`);
  return { kind: 'quant', rows, cols, qnorm, codes, pq, normCodes, npq };
}

/** Parses a fastText model file (.bin, or .ftz with quantized matrices). */
export function readModel(bytes: Uint8Array): FastTextModel {
  const c = new ByteCursor(bytes);
  const magic = c.int32('magic');
  if (magic !== FASTTEXT_MAGIC)
    throw new FastTextFormatError(`not a fastText model (magic ${magic}, expected ${FASTTEXT_MAGIC})`);
  const version = c.int32('version');
  if (version > FASTTEXT_VERSION)
    throw new FastTextFormatError(`file version ${version} is newer than ${FASTTEXT_VERSION}`);
  const args = readArgs(c);
  // Version 11 supervised models were trained without char n-grams whatever maxn says.
  if (version === 11 && args.model === 'sup') args.maxn = 0;
  const dictionary = readDictionary(c);
  const quantInput = c.bool('quant_input');
  const input = readMatrix(c, quantInput, 'input matrix');
  if (!quantInput && dictionary.pruneIdxSize >= 0)
    throw new FastTextFormatError('a pruned dictionary needs a quantized input matrix');
  const qout = c.bool('qout');
  const output = readMatrix(c, quantInput && qout, 'output matrix');
  if (c.remaining !== 0) throw new FastTextFormatError(`${c.remaining} unexpected bytes after the output matrix`);
  if (input.cols !== args.dim || output.cols !== args.dim) {
    throw new FastTextFormatError(`matrix widths ${input.cols} / ${output.cols} differ from dim ${args.dim}`);
  }
  return { version, args: { ...args, qout }, dictionary, input, output };
}
