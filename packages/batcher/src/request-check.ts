import { elementCount, ServiceError } from '@tessera/contract';
import type { BatchRequest } from './types.js';

/** Catches requests the scheduler could not batch correctly; the API validates the rest. */
export function checkRequest(req: BatchRequest): ServiceError | undefined {
  const model = req.model;
  const bad = (message: string) =>
    new ServiceError('invalid_input', `request ${req.id} for model '${model.name}': ${message}`);
  if (!Number.isSafeInteger(req.items) || req.items < 1)
    return bad(`items must be a positive integer, got ${req.items}`);
  if (model.maxBatchSize <= 0 && req.items !== 1)
    return bad(`the model has no batch dimension, so a request carries 1 item, not ${req.items}`);
  if (req.inputs.length !== model.inputs.length)
    return bad(`expected ${model.inputs.length} inputs, got ${req.inputs.length}`);
  for (const t of req.inputs) {
    if (model.maxBatchSize > 0 && t.shape[0] !== req.items)
      return bad(`input '${t.name}' has batch dimension ${t.shape[0]}, not ${req.items}`);
    if (t.data.length !== elementCount(t.shape))
      return bad(`input '${t.name}' holds ${t.data.length} elements for shape ${JSON.stringify(t.shape)}`);
  }
  return undefined;
}
