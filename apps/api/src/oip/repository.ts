import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { modelKey, ServiceError, type RepositoryIndexEntry } from '@tessera/contract';
import { checkModelConfig, loadRepository } from '@tessera/model-repository';
import { connectRedis, RepositoryControl, type Audience, type ControlState } from '@tessera/queue';
import type { ApiContext } from '../context.js';

/** How long a load or unload waits for every worker and replica to apply it (Triton's are synchronous too). */
const APPLY_WAIT_MS = 60_000;
/** A loaded version no worker serves yet is LOADING for this long after the load, UNAVAILABLE after. */
const LOADING_MS = 60_000;

const controlOf = (ctx: ApiContext) => new RepositoryControl(ctx.redis, ctx.config.QUEUE_PREFIX);

async function readRepository(ctx: ApiContext, state: ControlState) {
  return loadRepository(ctx.config.MODEL_REPOSITORY, { unloaded: state.unloaded, configs: state.configs });
}

/** Re-reads the repository from disk under the control state, and serves from it from now on. */
export async function refreshRepository(ctx: ApiContext): Promise<void> {
  ctx.repository = await readRepository(ctx, await controlOf(ctx).read());
  ctx.workers.invalidate();
}

/**
 * Keeps this replica's view of the repository in step with the others: refreshed now (a replica
 * started after a load or unload applies it) and on every `replicas` message. Returns the
 * subscriber's close.
 */
export async function watchRepository(ctx: ApiContext): Promise<() => void> {
  const subscriber = connectRedis(ctx.config, { maxRetriesPerRequest: null });
  subscriber.on('error', (err) => ctx.logger.warn({ err: err.message }, 'repository watch: redis connection error'));
  const refresh = () =>
    refreshRepository(ctx).catch((err: Error) =>
      ctx.logger.error({ err }, 'repository refresh failed; serving the previous view'),
    );
  await controlOf(ctx).subscribe(subscriber, 'replicas', refresh);
  await refresh();
  return () => subscriber.disconnect();
}

/** Triton's repository index: every version of every model, with its state and why. */
export async function repositoryIndex(
  ctx: ApiContext,
  mayUse: (name: string) => boolean,
): Promise<RepositoryIndexEntry[]> {
  const [workers, state] = await Promise.all([
    ctx.workers.live(0).catch(() => []),
    controlOf(ctx)
      .read()
      .catch(() => undefined),
  ]);
  const served = new Set(workers.flatMap((w) => w.models));
  const rows: RepositoryIndexEntry[] = ctx.repository.all().map((m) => {
    if (served.has(modelKey(m))) return { name: m.name, version: m.version, state: 'READY' };
    const loadedAt = state?.entries.get(m.name)?.at ?? 0;
    return Date.now() - loadedAt < LOADING_MS
      ? {
          name: m.name,
          version: m.version,
          state: 'LOADING',
          reason: 'a load was asked for; no worker serves this version yet',
        }
      : { name: m.name, version: m.version, state: 'UNAVAILABLE', reason: 'no live worker serves this version' };
  });
  for (const name of state?.unloaded ?? []) rows.push({ name, state: 'UNAVAILABLE', reason: 'unloaded' });
  return rows
    .filter((r) => mayUse(r.name))
    .sort((a, b) => a.name.localeCompare(b.name) || Number(a.version ?? 0) - Number(b.version ?? 0));
}

async function requireModelDirectory(ctx: ApiContext, name: string): Promise<void> {
  const known =
    /^[A-Za-z0-9_.-]+$/.test(name) &&
    !name.startsWith('.') &&
    (await stat(join(ctx.config.MODEL_REPOSITORY, name)).catch(() => undefined))?.isDirectory();
  if (!known) {
    const names = (await readdir(ctx.config.MODEL_REPOSITORY, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
    throw new ServiceError(
      'model_not_found',
      `no model '${name}' in the repository; it has ${names.sort().join(', ')}`,
    );
  }
}

/** A load's `parameters.config`: Triton sends it as a JSON string; an object is taken too. */
function overrideConfig(name: string, raw: unknown): unknown {
  if (raw === undefined) return undefined;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new ServiceError('bad_request', `parameters.config is not valid JSON: ${(err as Error).message}`);
    }
  }
  const checked = checkModelConfig(value, `parameters.config of '${name}'`);
  if ('problems' in checked)
    throw new ServiceError('bad_request', `parameters.config: ${checked.problems.map((p) => p.message).join('; ')}`);
  return value;
}

/**
 * Triton's `POST /v2/repository/models/{m}/load`: (re)reads the model from the repository, with
 * a new configuration when one is given, and answers once every worker has applied it, a live
 * worker serves every version its version policy selects, and every API replica has switched.
 * Workers load first and API replicas switch after, so that no request is sent to a version
 * nobody serves; versions the policy drops are released by the
 * workers after a grace period (see the worker's model control).
 */
export async function loadModel(ctx: ApiContext, name: string, parameters: Record<string, unknown>): Promise<void> {
  await requireModelDirectory(ctx, name);
  if (Object.keys(parameters).some((k) => k.startsWith('file:'))) {
    throw new ServiceError(
      'bad_request',
      'model files in a load request are not supported: put the version directory in the repository, then load',
    );
  }
  const config = overrideConfig(name, parameters.config);
  const control = controlOf(ctx);
  const generation = await control.set(name, {
    state: 'loaded',
    ...(config !== undefined ? { config } : {}),
    at: Date.now(),
  });
  const target = (await readRepository(ctx, await control.read())).versions(name);
  if (target.length === 0)
    throw new ServiceError('bad_request', `model '${name}' has no version its version policy selects`);
  await applyEverywhere(control, 'workers', generation);
  const served = new Set((await ctx.workers.live(0)).flatMap((w) => w.models));
  const missing = target.filter((v) => !served.has(modelKey({ name, version: v })));
  if (missing.length > 0)
    throw new ServiceError(
      'not_ready',
      `no live worker serves model '${name}' version ${missing.join(', ')} after the load; see the workers' logs`,
    );
  await applyEverywhere(control, 'replicas', generation);
}

async function applyEverywhere(control: RepositoryControl, audience: Audience, generation: number): Promise<void> {
  if (!(await control.apply(audience, generation, APPLY_WAIT_MS))) {
    throw new ServiceError(
      'not_ready',
      `not every ${audience === 'workers' ? 'worker' : 'API replica'} applied the change within ${APPLY_WAIT_MS / 1000} s; it applies it when it can`,
    );
  }
}

/** Triton's `POST /v2/repository/models/{m}/unload`: API replicas stop routing to it, workers release it. */
export async function unloadModel(ctx: ApiContext, name: string): Promise<void> {
  await requireModelDirectory(ctx, name);
  const control = controlOf(ctx);
  const generation = await control.set(name, { state: 'unloaded', at: Date.now() });
  await applyEverywhere(control, 'replicas', generation);
  await applyEverywhere(control, 'workers', generation);
}
