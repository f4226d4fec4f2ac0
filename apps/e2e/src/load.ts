import { readFileSync } from 'node:fs';
import path from 'node:path';
import { currentAuthorization } from './http.js';

/** An affine request (y = 2x + 1, sum = Σy) and its exact answer. */
export const affine = (row: number[]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: row }] });
export const affineAnswer = (row: number[]) => row.map((v) => 2 * Math.fround(v) + 1);

/** What one request of a load got. */
export interface Outcome {
  /** When it was sent, ms since the load started. */
  at: number;
  ms: number;
  model: string;
  status: number;
  /** The error code of a failure; 'connection' when no HTTP answer came. */
  code?: string;
  /** A 200 whose outputs are the right ones for its own input. */
  correct: boolean;
  /** What the tries before the last one got ("503 not_ready"), when it was retried with the same Idempotency-Key. */
  earlier: string[];
}

export interface LoadOptions {
  clients: number;
  /** affine (exact answers) or cost (checked against answers computed before the load). */
  model: 'affine' | 'cost';
  /** cost only: the inputs and their reference outputs (costReferences). */
  references?: CostReference[];
  /** Retry a 502/503/504 or a lost connection with the same Idempotency-Key for up to this long (0: never). */
  retryForMs?: number;
  /** Distinguishes the idempotency keys of loads that share a stack. */
  tag?: string;
  /** The performance.now() that Outcome.at counts from (now): loads that share it share a clock. */
  origin?: number;
}

export interface CostReference {
  x: number[];
  y: number[];
}

/** The width of the `cost` model of a repository (its config.json's input shape). */
export function costDim(repository: string): number {
  const config = JSON.parse(readFileSync(path.join(repository, 'cost', 'config.json'), 'utf8')) as {
    inputs: { shape: number[] }[];
  };
  return config.inputs[0]!.shape.at(-1)!;
}

/** Inputs of `cost` (of width `dim`, its config's) and their outputs, computed one by one before any fault. */
export async function costReferences(gw: string, dim: number, count = 8): Promise<CostReference[]> {
  const refs: CostReference[] = [];
  for (let k = 0; k < count; k++) {
    const x = Array.from({ length: dim }, (_, i) => Math.sin(i * 0.37 + k));
    const res = await post(`${gw}/v2/models/cost/infer`, costBody(x), `ref-${k}-${Date.now()}`);
    if (res.status !== 200) throw new Error(`reference ${k} of cost: ${res.status} ${JSON.stringify(res.body)}`);
    refs.push({ x, y: (res.body as InferBody).outputs[0]!.data });
  }
  return refs;
}

const costBody = (x: number[]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, x.length], data: x }] });

interface InferBody {
  outputs: { name: string; data: number[] }[];
  code?: string;
}

async function post(
  url: string,
  body: unknown,
  key: string,
): Promise<{ status: number; body: InferBody | undefined; code?: string }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization: currentAuthorization() },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: InferBody | undefined;
    try {
      parsed = JSON.parse(text) as InferBody;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, ...(parsed?.code ? { code: parsed.code } : {}) };
  } catch {
    return { status: 0, body: undefined, code: 'connection' };
  }
}

const close = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-4);
const retryable = (status: number) => status === 0 || status === 502 || status === 503 || status === 504;

/**
 * `clients` loops, each sending one request at a time until stop(); every answer is checked
 * against its own input, so that a reply delivered to the wrong request counts as wrong.
 */
export interface Load {
  outcomes: Outcome[];
  /** ms since the load started (the clock of Outcome.at). */
  elapsed(): number;
  stop(): Promise<Outcome[]>;
}

export function startLoad(gw: string, options: LoadOptions): Load {
  const outcomes: Outcome[] = [];
  const started = options.origin ?? performance.now();
  let running = true;
  let sequence = 0;
  const tag = options.tag ?? `${Date.now().toString(36)}`;
  const one = async (): Promise<void> => {
    const n = sequence++;
    const at = performance.now() - started;
    let body: unknown;
    let check: (b: InferBody) => boolean;
    if (options.model === 'affine') {
      const row = [n, n + 0.5, -n, 1];
      body = affine(row);
      check = (b) => close(b.outputs.find((o) => o.name === 'y')?.data ?? [], affineAnswer(row));
    } else {
      const ref = options.references![n % options.references!.length]!;
      body = costBody(ref.x);
      check = (b) => close(b.outputs[0]?.data ?? [], ref.y);
    }
    const key = `load-${tag}-${n}`;
    let res = await post(`${gw}/v2/models/${options.model}/infer`, body, key);
    const earlier: string[] = [];
    while (retryable(res.status) && performance.now() - started - at < (options.retryForMs ?? 0)) {
      earlier.push(`${res.status} ${res.code ?? ''}`.trim());
      await new Promise((r) => setTimeout(r, 100));
      res = await post(`${gw}/v2/models/${options.model}/infer`, body, key);
    }
    const correct = res.status === 200 && res.body !== undefined && check(res.body);
    outcomes.push({
      at,
      ms: performance.now() - started - at,
      model: options.model,
      status: res.status,
      ...(res.code ? { code: res.code } : {}),
      correct,
      earlier,
    });
  };
  const clients = Array.from({ length: options.clients }, async () => {
    while (running) await one();
  });
  return {
    outcomes,
    elapsed: () => performance.now() - started,
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return outcomes;
    },
  };
}
