import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import {
  datatypeInfo,
  elementCount,
  type InferJobData,
  type InferJobSummary,
  type WireTensor,
} from '@tessera/contract';

/** Tensors are shown by name, type, shape and size: never their values, which are users' data. */
const describe = (tensors: WireTensor[] | undefined) =>
  (tensors ?? []).map((t) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    bytes:
      t.blob !== undefined ? elementCount(t.shape) * datatypeInfo(t.datatype).size : Buffer.byteLength(t.b64, 'base64'),
    ...(t.blob !== undefined ? { stored: 'apart' } : {}),
  }));

function redactData(data: InferJobData | undefined): unknown {
  if (!data || typeof data !== 'object' || !Array.isArray(data.requests)) return data;
  const requests = data.requests.map(({ inputs, idempotency, ...rest }) => ({
    ...rest,
    inputs: describe(inputs),
    ...(idempotency ? { idempotency: 'set' } : {}),
  }));
  return { ...data, requests };
}

function redactSummary(summary: InferJobSummary | undefined): unknown {
  if (!summary || typeof summary !== 'object' || !summary.requests) return summary;
  const requests = Object.fromEntries(
    Object.entries(summary.requests).map(([id, r]) => [
      id,
      r.ok && r.result ? { ok: true, result: { ...r.result, outputs: describe(r.result.outputs) } } : r,
    ]),
  );
  return { requests };
}

/** bull-board at `basePath`, one entry per model queue; read-only unless told otherwise. */
export function queueBoard(basePath: string, queues: Queue[], readOnly: boolean): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  const adapters = queues.map((q) => {
    const adapter = new BullMQAdapter(q, {
      readOnlyMode: readOnly,
      allowRetries: !readOnly,
      description: 'inference jobs (tensor values redacted)',
    });
    adapter.setFormatter('data', redactData);
    adapter.setFormatter('returnValue', redactSummary);
    return adapter;
  });
  createBullBoard({ queues: adapters, serverAdapter, options: { uiConfig: { boardTitle: 'Tessera queues' } } });
  return serverAdapter.getRouter() as RequestHandler;
}
