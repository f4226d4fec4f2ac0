#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadApiConfig } from '@tessera/config';
import { loadRepository } from '@tessera/model-repository';
import { createLogger } from '@tessera/telemetry';
import { createContext } from '../context.js';
import { loadPipelines } from '../inference/pipelines.js';
import { routeTable } from '../http/routes/route-table.js';
import { createServer } from '../server.js';
import { runCli } from './connect.js';

const USAGE = `usage: routes [--json]

Every route the API answers, as its own router registers it, and who may call it:
public, any valid key ('key'), a key with a scope ('infer', 'admin'), or 'open' (a bug: neither
declared public nor behind authentication). Reads the API's configuration (REDIS_URL,
MODEL_REPOSITORY, ...) and builds the app as a replica does, without listening.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const config = loadApiConfig();
  const logger = createLogger({ service: 'api', level: 'silent' });
  const repository = await loadRepository(config.MODEL_REPOSITORY);
  const ctx = createContext(config, logger, repository, await loadPipelines(config, repository));
  try {
    const table = routeTable(createServer(ctx));
    if (values.json) process.stdout.write(`${JSON.stringify(table)}\n`);
    else for (const r of table) process.stdout.write(`${r.method.padEnd(7)} ${r.path.padEnd(48)} ${r.access}\n`);
  } finally {
    await ctx.close();
  }
}

runCli(main);
