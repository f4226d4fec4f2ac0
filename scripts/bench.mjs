#!/usr/bin/env node
// npm run bench: bootstrap (as npm start does), then the benchmark in apps/bench: the in-process
// ceiling, the seed design (one Express process) and the full stack on the same inputs.
//
//   npm run bench -- --models cost,ocr-rec --concurrency 1,8,64 --duration 5
//   npm run bench -- --help
//
// SKIP_BOOTSTRAP=1 runs the current build as it is. Results go to bench-results/<timestamp>/.

import { runBuilt } from './run-built.mjs';

const argv = process.argv.slice(2);
runBuilt({
  name: 'bench',
  cli: ['apps', 'bench', 'dist', 'cli.js'],
  argv,
  skipBootstrap: argv.includes('--help') || argv.includes('-h'),
});
