/** Chooses the K3s version at the edge: the only place that asks the host's k3s binary. */
import type { Config } from '../config/schema.js';
import { ConfigError, HostError, UsageError, describeError } from '../errors.js';
import type { Host } from '../host/host.js';
import { resolveK3sVersion, versionFromK3sOutput, type K3sVersionChoice } from './version.js';

/**
 * --k3s-version, the config's k3sVersion, `k3s --version` on a live host with K3s installed,
 * INSTALL_K3S_VERSION, else the newest line. A version that does not parse is a configuration error.
 */
export async function chooseK3sVersion(host: Host, flag: string | undefined, config: Config, env: string | undefined): Promise<K3sVersionChoice> {
  const needProbe = flag === undefined && config.k3sVersion === undefined;
  let installed: { stdout: string; command: string } | null = null;
  if (needProbe) {
    let result: Awaited<ReturnType<Host['k3sVersion']>>;
    try {
      result = await host.k3sVersion();
    } catch (error) {
      throw new HostError(
        `k3s --version could not be run (${describeError(error)}): the installed K3s's version, on which every judgement depends, is unknown; fix the binary or pass --k3s-version`,
      );
    }
    // An installed k3s that fails is reported, never replaced by a guess: K3s itself will not run either.
    if (result !== null && (result.exitCode !== 0 || versionFromK3sOutput(result.stdout) === null)) {
      const said = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] || 'no output';
      throw new HostError(
        `${result.command} ${result.exitCode !== 0 ? `exited ${result.exitCode}` : 'printed no version'} (${said}): the installed K3s's version, on which every judgement depends, is unknown; fix the binary or pass --k3s-version`,
      );
    }
    if (result !== null) installed = { stdout: result.stdout, command: result.command };
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
