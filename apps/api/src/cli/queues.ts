#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { queueName } from '@tessera/queue';
import { drainQueue, pauseQueue, queueStatus, resumeQueue } from '../admin/queue-ops.js';
import { connect, fail, runCli } from './connect.js';

const USAGE = `usage: queues <status|pause|resume|drain> <model>

  status   jobs by state, whether the queue is paused, items in flight under the queue cap
  pause    workers stop taking the model's jobs (queued jobs wait, or expire at their deadlines)
  resume   workers take jobs again
  drain    removes every job not yet taken and answers its client with 503

The same as POST /admin/models/<model>/<action> with an admin key. Reads REDIS_URL and QUEUE_PREFIX.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h', default: false } },
  });
  const [command, model, ...extra] = positionals;
  if (values.help || !command) return void process.stdout.write(`${USAGE}\n`);
  if (!model || extra.length > 0) fail(USAGE, 2);
  const { config, redis } = connect();
  const queue = new Queue(queueName(model), { connection: redis, prefix: config.QUEUE_PREFIX });
  try {
    let extra: Record<string, unknown> = {};
    if (command === 'pause') await pauseQueue(queue);
    else if (command === 'resume') await resumeQueue(queue);
    else if (command === 'drain') extra = { removed: await drainQueue(queue, redis, config.QUEUE_PREFIX, model) };
    else if (command !== 'status') fail(`unknown command '${command}'\n\n${USAGE}`, 2);
    process.stdout.write(
      `${JSON.stringify({ ...(await queueStatus(queue, redis, config.QUEUE_PREFIX, model)), ...extra })}\n`,
    );
  } finally {
    await queue.close().catch(() => {
      // The answer is printed; a close that fails leaves nothing to clean up in a process about to exit.
    });
    redis.disconnect();
  }
}

runCli(main);
