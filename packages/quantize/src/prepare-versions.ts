import { catalogue, type QuantizedRecipe } from '@tessera/model-zoo';
import { calibrationInputs } from './calibration-inputs.js';
import { quantizeInRepository, type RepositoryOutcome } from './quantize-in-repository.js';
import type { QuantizeOptions } from './quantize-model.js';
import { join } from 'node:path';

/** The quantizer's options for a zoo recipe (the optional fields only where the recipe sets them). */
export function recipeOptions(recipe: QuantizedRecipe): Omit<QuantizeOptions, 'calibration'> {
  return {
    mode: recipe.mode,
    perChannel: recipe.perChannel,
    ...(recipe.method ? { method: recipe.method } : {}),
    ...(recipe.percentile ? { percentile: recipe.percentile } : {}),
    ...(recipe.exclude?.length ? { exclude: recipe.exclude } : {}),
    ...(recipe.opTypes ? { opTypes: recipe.opTypes } : {}),
    ...(recipe.uint8ConvWeights ? { uint8ConvWeights: true } : {}),
  };
}

/**
 * Prepares the quantized version of every zoo model that has a recipe, beside the FP32
 * version 1 that the zoo wrote into `repository`. Models absent from the repository are passed over.
 */
export async function prepareQuantizedVersions(
  repository: string,
  log: (line: string) => void = () => {},
): Promise<{ model: string; outcome: RepositoryOutcome }[]> {
  const done: { model: string; outcome: RepositoryOutcome }[] = [];
  for (const model of catalogue({ only: 'demo' })) {
    const recipe = model.quantized;
    if (!recipe) continue;
    const started = performance.now();
    const outcome = await quantizeInRepository(
      {
        repository,
        model: model.name,
        from: '1',
        version: recipe.version,
        // The recipe revision too, so a recipe bumped for any reason is redone.
        inputs: `${recipe.calibration} × ${recipe.samples}, recipe revision ${recipe.revision}`,
      },
      recipeOptions(recipe),
      () => calibrationInputs(recipe.calibration, join(repository, model.name), recipe.samples),
    ).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    });
    if (!outcome) continue;
    const r = outcome.record;
    log(
      `${outcome.status.padEnd(9)} ${model.name}/${recipe.version} (${recipe.mode}${recipe.perChannel ? ', per channel' : ''}): ${r.bytes.quantized} of ${r.bytes.original} bytes (${((100 * r.bytes.quantized) / r.bytes.original).toFixed(0)} %)${outcome.status === 'written' ? ` in ${((performance.now() - started) / 1000).toFixed(1)} s` : ''}`,
    );
    done.push({ model: model.name, outcome });
  }
  return done;
}
