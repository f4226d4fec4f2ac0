import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Whether `moduleUrl` is the script node was started with. */
export function isEntry(moduleUrl: string): boolean {
  return Boolean(process.argv[1]) && moduleUrl === pathToFileURL(resolve(process.argv[1]!)).href;
}

/**
 * A floor process's life: started, it says so on stdout; SIGTERM or SIGINT stops it and exits;
 * a failed start is reported on stderr with exit code 1.
 */
export function runUntilSignal(what: string, start: () => Promise<{ stop(): Promise<void> }>): void {
  start().then(
    (running) => {
      process.stdout.write(`${what} started\n`);
      const stop = () => void running.stop().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`${what} failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
