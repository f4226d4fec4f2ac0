#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { KeyStore, SCOPES, type ApiKeyRecord, type Scope } from '../auth/key-store.js';
import { connect, fail, runCli } from './connect.js';

const USAGE = `usage: keys <command>

  create --name NAME --scopes infer[,admin] [--rate-limit N] [--models a,b] [--priority MIN-MAX] [--cache-group G] [--replace] [--json]
         Creates a key and prints it. The key is shown this once; only its hash is stored.
         --replace revokes existing keys with the same name first.
         --cache-group shares response-cache entries with the other keys of group G (one tenant's
         keys); without it a key sees only its own entries.
  list [--json]            Every key: id, name, scopes and limits (never the key).
  revoke <id|name>         Revokes the key (every replica stops accepting it within a second).

Reads REDIS_URL and QUEUE_PREFIX like the API; Redis' admin user is needed (npm start's:
REDIS_URL="$(cat .run/redis/admin-url)").`;

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

function parseScopes(value: string | undefined): Scope[] {
  const scopes = list(value) ?? [];
  if (scopes.length === 0) fail(`--scopes is required: ${SCOPES.join(', ')}`);
  const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length) fail(`unknown scope ${bad.join(', ')}; scopes are ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

function parsePriority(value: string | undefined): { min: number; max: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  const min = Number(m?.[1]);
  const max = Number(m?.[2] ?? m?.[1]);
  if (!m || min < 1 || max < min)
    fail(`--priority takes MIN-MAX with 1 <= MIN <= MAX (1 is the highest priority), got '${value}'`);
  return { min, max };
}

function describe(r: ApiKeyRecord): string {
  const limits = [
    r.rateLimit !== undefined ? `rate-limit ${r.rateLimit}` : '',
    r.models ? `models ${r.models.join(',')}` : '',
    r.priority ? `priority ${r.priority.min}-${r.priority.max}` : '',
    r.cacheGroup ? `cache-group ${r.cacheGroup}` : '',
  ].filter(Boolean);
  return `${r.id}  ${r.name.padEnd(16)}  ${r.scopes.join(',').padEnd(12)}  ${r.createdAt}${limits.length ? `  ${limits.join('  ')}` : ''}`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      'rate-limit': { type: 'string' },
      models: { type: 'string' },
      priority: { type: 'string' },
      'cache-group': { type: 'string' },
      replace: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, target] = positionals;
  if (values.help || !command) return void process.stdout.write(`${USAGE}\n`);
  const { config, redis } = connect();
  const store = new KeyStore(redis, config.QUEUE_PREFIX, 0);
  try {
    switch (command) {
      case 'create': {
        if (!values.name || !/^[A-Za-z0-9_.:@-]{1,64}$/.test(values.name))
          fail('--name is required: 1 to 64 letters, digits or _ . : @ -');
        const scopes = parseScopes(values.scopes);
        const rateRaw = values['rate-limit'];
        const rateLimit = rateRaw === undefined ? undefined : Number(rateRaw);
        if (rateLimit !== undefined && (!Number.isSafeInteger(rateLimit) || rateLimit < 0))
          fail(`--rate-limit takes a non-negative integer (requests per window; 0: none), got '${rateRaw}'`);
        const cacheGroup = values['cache-group'];
        if (cacheGroup !== undefined && !/^[A-Za-z0-9_.@-]{1,64}$/.test(cacheGroup))
          fail('--cache-group takes 1 to 64 letters, digits or _ . @ -');
        const replaced = values.replace ? await store.revoke(values.name) : [];
        const { key, record } = await store.create({
          name: values.name,
          scopes,
          rateLimit,
          models: list(values.models),
          priority: parsePriority(values.priority),
          cacheGroup,
        });
        if (values.json) {
          const { hash: _hash, ...rest } = record;
          process.stdout.write(`${JSON.stringify({ key, ...rest, replaced: replaced.map((r) => r.id) })}\n`);
        } else {
          process.stderr.write(
            `created ${describe(record)}${replaced.length ? ` (replaced ${replaced.map((r) => r.id).join(', ')})` : ''}\nthe key is shown only now; store it:\n`,
          );
          process.stdout.write(`${key}\n`);
        }
        return;
      }
      case 'list': {
        const keys = await store.list();
        if (values.json) process.stdout.write(`${JSON.stringify(keys.map(({ hash: _hash, ...rest }) => rest))}\n`);
        else process.stdout.write(keys.length ? `${keys.map(describe).join('\n')}\n` : 'no keys\n');
        return;
      }
      case 'revoke': {
        if (!target) fail('usage: keys revoke <id|name>');
        const revoked = await store.revoke(target);
        if (revoked.length === 0) fail(`no key has id or name '${target}'`);
        process.stdout.write(`revoked ${revoked.map((r) => `${r.id} (${r.name})`).join(', ')}\n`);
        return;
      }
      default:
        fail(`unknown command '${command}'\n\n${USAGE}`, 2);
    }
  } finally {
    redis.disconnect();
  }
}

runCli(main);
