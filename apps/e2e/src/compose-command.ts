import { spawnSync } from 'node:child_process';
import { findExecutable } from '@tessera/topology';

/**
 * How to run Compose here: the v2 plugin (`docker compose`, JSON output) or the standalone
 * docker-compose that `npm test` installs from Debian where the plugin is missing (YAML output).
 */
export function composeCommand(): { command: string; args: string[]; json: boolean } | string {
  const docker = findExecutable('docker');
  if (docker) {
    if (spawnSync(docker, ['compose', 'version'], { stdio: 'ignore' }).status === 0)
      return { command: docker, args: ['compose'], json: true };
  }
  const standalone = findExecutable('docker-compose');
  if (standalone) {
    const version = spawnSync(standalone, ['version', '--short'], { encoding: 'utf8' });
    if (version.status === 0) return { command: standalone, args: [], json: /^v?2\./.test(version.stdout.trim()) };
  }
  return 'neither `docker compose` nor docker-compose is installed (npm test installs docker-compose through apt)';
}
