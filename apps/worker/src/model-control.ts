import type { WorkerConfig } from '@tessera/config';
import { modelKey, parseModelKey, type ModelSpec } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { connectRedis, RepositoryControl } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';

/**
 * How long a version dropped by an unload or a version policy keeps being served without being
 * advertised: API replicas learn within a heartbeat or two that nobody serves it, and requests
 * already sent to it are answered rather than failed.
 */
const RELEASE_GRACE_MS = 5000;

export interface ModelControlDeps {
  config: WorkerConfig;
  logger: Logger;
  /** Served versions by model name; consumers read the same maps. */
  served: Map<string, Map<string, ModelSpec>>;
  /** Execution provider per `name@version`: what the heartbeat advertises. */
  providers: Record<string, string>;
  load(spec: ModelSpec): Promise<{ provider: string }>;
  /** Releases a version's session once nothing is sent to it any more. */
  release(spec: ModelSpec): Promise<void>;
  /** Starts taking jobs of a model this worker did not serve before. */
  startModel(name: string): void;
  /** Advertises the change at once rather than at the next heartbeat. */
  beat(): Promise<void>;
}

/**
 * Applies the repository API's model control on this worker (Triton's explicit model control):
 * on start and on every `workers` message, the repository is read again under the control state;
 * versions it now selects are loaded and advertised, versions it no longer selects stop being
 * advertised at once, and are dropped and their sessions released after RELEASE_GRACE_MS. Returns its close.
 */
export async function startModelControl(deps: ModelControlDeps): Promise<() => void> {
  const { config, logger } = deps;
  const control = new RepositoryControl(connectRedis(config, { maxRetriesPerRequest: null }), config.QUEUE_PREFIX);
  const subscriber = connectRedis(config, { maxRetriesPerRequest: null });
  subscriber.on('error', (err) => logger.warn({ err: err.message }, 'model control: redis connection error'));
  let running = Promise.resolve();
  // One change at a time, in the order they came.
  const reconcileSoon = () => {
    running = running
      .then(() => reconcile(deps, control))
      .catch((err: Error) =>
        logger.error({ err }, 'model control: the repository could not be applied; serving as before'),
      );
    return running;
  };
  await control.subscribe(subscriber, 'workers', reconcileSoon);
  void reconcileSoon();
  return () => subscriber.disconnect();
}

async function reconcile(deps: ModelControlDeps, control: RepositoryControl): Promise<void> {
  const { config, logger, served, providers } = deps;
  const state = await control.read();
  const repository = await loadRepository(config.MODEL_REPOSITORY, {
    unloaded: state.unloaded,
    configs: state.configs,
  });
  const names =
    config.MODELS.length > 0 ? repository.names().filter((n) => config.MODELS.includes(n)) : repository.names();
  const wanted = new Set<string>();
  for (const name of names) {
    for (const version of repository.versions(name)) {
      const spec = repository.get(name, version)!;
      const key = modelKey(spec);
      wanted.add(key);
      if (providers[key] !== undefined) {
        // Loaded already: a new configuration (batching, limits) applies from the next job on;
        // the session, made from the same file, stays.
        served.get(name)?.set(version, spec);
        continue;
      }
      try {
        const { provider } = await deps.load(spec);
        const isNew = !served.has(name);
        if (isNew) served.set(name, new Map());
        served.get(name)!.set(version, spec);
        providers[key] = provider;
        if (isNew) deps.startModel(name);
        logger.info({ model: name, version, provider }, 'model version loaded');
      } catch (err) {
        logger.error({ err, model: name, version }, 'model version failed to load; not serving it');
      }
    }
  }
  for (const key of Object.keys(providers)) {
    if (wanted.has(key)) continue;
    delete providers[key];
    const { name, version } = parseModelKey(key)!;
    logger.info(
      { model: name, version, graceMs: RELEASE_GRACE_MS },
      'model version released: no longer advertised, dropped after the grace period',
    );
    setTimeout(() => {
      const spec = served.get(name)?.get(version);
      if (providers[key] !== undefined || !spec) return; // loaded again meanwhile
      served.get(name)!.delete(version);
      deps
        .release(spec)
        .catch((err: Error) => logger.warn({ err: err.message, model: name, version }, 'model session not released'));
    }, RELEASE_GRACE_MS).unref();
  }
  await deps.beat();
}
