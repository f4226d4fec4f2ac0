import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pin } from '../contenders/pin.js';

/**
 * Runs `module` (the URL of a compiled module that calls serveChildJob) in a child Node process, sends it `job` and resolves
 * with the result it sends back. The child's stderr goes to ours (progress lines).
 */
export function childJob<J, R>(
  module: URL,
  job: J,
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cpus?: readonly number[] | undefined },
): Promise<R> {
  const file = fileURLToPath(module);
  const child = fork(file, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: opts.env ?? process.env });
  // Pinned before it is given the job: it has done nothing yet but wait for it.
  if (opts.cpus && child.pid !== undefined) pin([child.pid], opts.cpus);
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new Error(`${module} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`)));
    }, opts.timeoutMs);
    child.once('message', (msg: { ok: boolean; result?: R; error?: string }) => {
      finish(() => (msg.ok ? resolve(msg.result as R) : reject(new Error(`${module}: ${msg.error}`))));
    });
    child.once('error', (err) => finish(() => reject(err)));
    child.once('exit', (code, signal) => {
      finish(() => reject(new Error(`${module} exited (${signal ?? `code ${code}`}) without a result`)));
    });
    child.send(job as object);
  });
}

/**
 * The child's side of childJob: when this process was forked with an IPC channel, takes one job,
 * runs it and sends back its result or error, then exits. Exits at once if the parent goes away
 * (Ctrl-C), rather than keep loading the machine.
 */
export function serveChildJob<J, R>(run: (job: J) => Promise<R>): void {
  if (!process.send) return;
  process.once('disconnect', () => process.exit(1));
  process.once('message', (job: J) => {
    run(job).then(
      (result) => process.send!({ ok: true, result }, undefined, undefined, () => process.exit(0)),
      (err: unknown) =>
        process.send!(
          { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) },
          undefined,
          undefined,
          () => process.exit(1),
        ),
    );
  });
}
