import { allocate, ServiceError, type ModelSpec, type Tensor } from '@tessera/contract';
import { copyRegion, rowSize } from './tensor-copy.js';
import { rowDims } from './stack.js';

/** One request's share of a batch: its row count and its own (unpadded) inputs. */
export interface SplitPart {
  inputs: readonly Tensor[];
  count: number;
}

// ceil(7 * 0.1) must not become 1 because 7 * 0.1 = 0.7000000000000001; rules are meant exact.
const EPSILON = 1e-9;

/**
 * Slices every batch output back into per-part tensors along the batch axis, in part order.
 * Outputs with crop rules are cut to max(1, ceil((part's input size + offset) * scale)) along the rule's axis so
 * that padding added for batch-mates never shows in a request's answer.
 */
export function splitOutputs(model: ModelSpec, outputs: readonly Tensor[], parts: readonly SplitPart[]): Tensor[][] {
  if (model.maxBatchSize <= 0) {
    if (parts.length !== 1)
      throw new RangeError(`model '${model.name}' has no batch dimension; cannot split into ${parts.length}`);
    return [[...outputs]];
  }
  const total = parts.reduce((n, p) => n + p.count, 0);
  for (const out of outputs) {
    if (out.shape[0] !== total) {
      throw new ServiceError(
        'inference_failed',
        `model '${model.name}' returned output '${out.name}' with batch dimension ${out.shape[0] ?? 'missing'} for a batch of ${total}`,
      );
    }
  }
  const result: Tensor[][] = parts.map(() => []);
  for (const out of outputs) {
    const dims = rowDims(out);
    const size = rowSize(dims);
    const rules = model.outputs.find((o) => o.name === out.name)?.crop ?? [];
    let row = 0;
    parts.forEach((part, p) => {
      const own = [...dims];
      for (const rule of rules) {
        const index = model.inputs.findIndex((s) => s.name === rule.input);
        const source = part.inputs[index]?.shape[1 + rule.inputAxis];
        const current = own[rule.axis];
        if (source === undefined || current === undefined) continue;
        own[rule.axis] = Math.min(
          current,
          Math.max(1, Math.ceil((source + (rule.offset ?? 0)) * rule.scale - EPSILON)),
        );
      }
      const start = row * size;
      let data;
      if (own.every((d, a) => d === dims[a])) {
        data = out.data.slice(start, start + part.count * size);
      } else {
        data = allocate(out.datatype, part.count * rowSize(own));
        copyRegion(out.data, start, [part.count, ...dims], data, 0, [part.count, ...own]);
      }
      result[p]!.push({ name: out.name, datatype: out.datatype, shape: [part.count, ...own], data });
      row += part.count;
    });
  }
  return result;
}

/**
 * Joins the pieces of one request (each a list of outputs, in row order) along the batch axis
 * and keeps the requested outputs, in the requested order.
 */
export function assembleOutputs(
  model: ModelSpec,
  pieces: readonly (readonly Tensor[])[],
  names?: readonly string[],
): Tensor[] {
  const first = pieces[0];
  if (!first) throw new RangeError('no outputs to assemble');
  const wanted = names ?? first.map((t) => t.name);
  return wanted.map((name) => {
    const parts = pieces.map((piece) => {
      const t = piece.find((x) => x.name === name);
      if (!t) throw new ServiceError('inference_failed', `model '${model.name}' returned no output '${name}'`);
      return t;
    });
    if (parts.length === 1) return parts[0]!;
    return concatRows(model, parts);
  });
}

function concatRows(model: ModelSpec, parts: readonly Tensor[]): Tensor {
  const head = parts[0]!;
  const dims = rowDims(head);
  const key = JSON.stringify(dims);
  let rows = 0;
  for (const t of parts) {
    if (JSON.stringify(rowDims(t)) !== key) {
      // Happens only when an output follows a padded input without a crop rule for it.
      throw new ServiceError(
        'internal',
        `output '${head.name}' of model '${model.name}' changed shape between slices of one request (${key} vs ${JSON.stringify(rowDims(t))}); it needs a crop rule`,
      );
    }
    rows += t.shape[0]!;
  }
  const data = allocate(head.datatype, rows * rowSize(dims));
  let at = 0;
  for (const t of parts) {
    (data as unknown as { set(v: unknown, o: number): void }).set(t.data, at);
    at += t.data.length;
  }
  return { name: head.name, datatype: head.datatype, shape: [rows, ...dims], data };
}
