#!/usr/bin/env node
// npm run chaos / npm run soak: bootstrap (as npm start does), then the fault scenarios or the
// soak of apps/e2e/src/chaos against stacks they start on free loopback ports.
//
//   npm run chaos                                   every scenario, report in .run/chaos/
//   npm run chaos -- --only redis-freeze --baseline 8 --observe 12
//   npm run soak -- --minutes 5                     report in .run/soak/
//
// SKIP_BOOTSTRAP=1 runs the current build as it is.

import { runBuilt } from './run-built.mjs';

runBuilt({
  name: 'chaos',
  cli: ['apps', 'e2e', 'dist', 'chaos', 'cli.js'],
  argv: process.argv.slice(2),
  bootstrapOptions: { testPackages: true },
});
