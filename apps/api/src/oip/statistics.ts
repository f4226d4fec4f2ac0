import type { ModelSpec } from '@tessera/contract';
import type { InferenceStatistics, ModelVersionStats } from '@tessera/queue';

/** Triton's `GET /v2/models[/{m}[/versions/{v}]]/stats` body. */
export interface StatisticsResponse {
  model_stats: Array<{ name: string; version: string } & ModelVersionStats>;
}

/**
 * The statistics of the given model versions, summed over every replica and worker (they all
 * count into Redis). Triton lists each version of each model; so does this.
 */
export async function modelStatistics(
  statistics: InferenceStatistics,
  models: readonly ModelSpec[],
): Promise<StatisticsResponse> {
  const stats = await Promise.all(models.map((m) => statistics.read(m.name, m.version)));
  return { model_stats: models.map((m, i) => ({ name: m.name, version: m.version, ...stats[i]! })) };
}
