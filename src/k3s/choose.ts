/** Chooses the K3s version at the edge: the only place that asks the host's k3s binary. */
import type { Config } from '../config/schema.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Host } from '../host/host.js';
import { resolveK3sVersion, type K3sVersionChoice } from './version.js';

/**
 * --k3s-version, the config's k3sVersion, `k3s --version` on a live host with K3s installed,
 * INSTALL_K3S_VERSION, else the newest line. A version that does not parse is a configuration error.
 */
export async function chooseK3sVersion(host: Host, flag: string | undefined, config: Config, env: string | undefined): Promise<K3sVersionChoice> {
  const needProbe = flag === undefined && config.k3sVersion === undefined;
  let installed: { stdout: string; command: string } | null = null;
  if (needProbe) {
    try {
      const result = await host.k3sVersion();
      if (result !== null && result.exitCode === 0) installed = { stdout: result.stdout, command: result.command };
    } catch {
      installed = null;
    }
  }
  const resolution = resolveK3sVersion({
    ...(flag !== undefined ? { flag } : {}),
    ...(config.k3sVersion !== undefined ? { config: { value: config.k3sVersion, file: config.source } } : {}),
    installed,
    ...(env !== undefined ? { env } : {}),
  });
  if (resolution.ok) return resolution.choice;
  if (resolution.where === '--k3s-version') throw new UsageError(`--k3s-version: ${resolution.message}`);
  throw new ConfigError(resolution.where, [resolution.message]);
}

