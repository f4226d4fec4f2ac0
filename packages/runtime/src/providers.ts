import type { ModelSpec } from '@tessera/contract';
import type { DeviceSetting, Provider } from './types.js';

/** Execution providers to try for a model, most preferred first. */
export function providerPlan(model: ModelSpec, device: DeviceSetting): Provider[] {
  const wanted: Provider[] =
    model.executionProviders.length > 0 ? [...new Set(model.executionProviders)] : ['cuda', 'cpu'];
  if (device === 'cpu') return ['cpu'];
  if (device === 'cuda') {
    if (!wanted.includes('cuda')) {
      throw new Error(
        `model '${model.name}' version ${model.version} allows only [${wanted.join(', ')}] but this worker is configured with device=cuda`,
      );
    }
    return ['cuda'];
  }
  return wanted;
}
