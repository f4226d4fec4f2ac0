import { checkTensors, fromWire, type Infer, type Timing } from '@tessera/contract';
import type { ApiContext } from '../context.js';
import type { InferenceCall } from './call.js';
import { resolveRequested } from './models.js';
import type { InferenceOutcome } from './infer.js';

/**
 * The `infer` a pipeline gets: each call goes through the queue like any request, is charged
 * to the key's rate limit like one, and the timings of all calls are summed for the response
 * (batch size: the largest batch seen). A `version` applies to every model the pipeline calls.
 */
export function pipelineInfer(
  ctx: ApiContext,
  req: InferenceCall,
  version?: string,
): {
  infer: Infer;
  totals: Timing & {
    calls: number;
    provider: string;
    cache: InferenceOutcome['cache'];
    versions: Record<string, string>;
  };
} {
  // X-Cache of the whole request: hit when every call was answered by the cache, miss when any
  // call was looked up and missed, off otherwise.
  const totals = {
    queueMs: 0,
    computeMs: 0,
    batchSize: 0,
    calls: 0,
    provider: '',
    cache: 'off' as InferenceOutcome['cache'],
    versions: {} as Record<string, string>,
  };
  const states = new Set<InferenceOutcome['cache']>();
  const infer: Infer = async (call) => {
    const model = await resolveRequested(ctx, call.model, version);
    totals.versions[model.name] = model.version;
    const items = checkTensors(model, call.inputs);
    const { result, cache } = await ctx.infer.run(
      req,
      model,
      { tensors: call.inputs, items, outputs: call.outputs },
      { chargeEachCall: true },
    );
    states.add(cache);
    totals.cache = states.has('miss') ? 'miss' : states.size === 1 && states.has('hit') ? 'hit' : 'off';
    totals.queueMs += result.timing.queueMs;
    totals.computeMs += result.timing.computeMs;
    totals.batchSize = Math.max(totals.batchSize, result.timing.batchSize);
    totals.calls += 1;
    totals.provider = result.provider;
    return { outputs: result.outputs.map((w) => fromWire(w)), timing: result.timing, provider: result.provider };
  };
  return { infer, totals };
}
