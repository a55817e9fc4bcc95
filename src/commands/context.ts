/** What the commands share: reading the configuration, opening the host, the context of a run, the output files. */
import * as fs from 'node:fs';
import { DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, defaultConfig } from '../config/defaults.js';
import type { Config, Role } from '../config/schema.js';
import type { Context } from '../controls/types.js';
import { ConfigError, EXIT, UsageError, describeError } from '../errors.js';
import type { Host } from '../host/host.js';
import { NodeHost } from '../host/node-host.js';
import { resolveInRoot } from '../host/paths.js';
import { chooseK3sVersion } from '../k3s/choose.js';
import type { K3sVersionChoice } from '../k3s/version.js';
import { renderJunit } from '../report/junit.js';
import type { Report } from '../report/model.js';
import { renderMetrics } from '../report/prometheus.js';
import { writeLocalFile, writeMetricsFile } from '../outputs.js';
import { chooseRole, type RoleChoice } from '../role.js';
import { PRIORITY, journalStream, line } from '../watch/journal.js';

/**
 * Reads a configuration file's bytes: a regular file of at most MAX_CONFIG_BYTES (a FIFO, a device
 * or a huge file is refused before it is read), or null when there is none.
 */
function readConfigBytes(real: string, shown: string, optional: boolean): Uint8Array | null {
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(shown, ['cannot read the configuration file: not a regular file']);
    if (stat.size > MAX_CONFIG_BYTES) throw new ConfigError(shown, [`the configuration file is ${stat.size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`]);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = fs.readSync(fd, buffer, length, buffer.length - length, null);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  } finally {
    fs.closeSync(fd);
  }
}

export interface ConfigText {
  /** The file as shown in messages; null when there is none and the defaults apply. */
  file: string | null;
  text: string | null;
}

/**
 * The configuration file's text, read once and guarded (see readConfigBytes). --config names a
 * file on this machine; the default lives inside the prepared system and may be absent.
 */
export async function readConfigText(host: Host, explicit: string | undefined): Promise<ConfigText> {
  const decode = async (bytes: Uint8Array, file: string) => (await import('../config/load.js')).decodeConfig(bytes, file);
  if (explicit !== undefined) return { file: explicit, text: await decode(readConfigBytes(explicit, explicit, false)!, explicit) };
  const shown = host.realPath(DEFAULT_CONFIG_PATH);
  let real: string;
  try {
    real = resolveInRoot(host.root, DEFAULT_CONFIG_PATH, true);
  } catch (error) {
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  const bytes = readConfigBytes(real, shown, true);
  return bytes === null ? { file: null, text: null } : { file: shown, text: await decode(bytes, shown) };
}

/** The parser (and the YAML library) is loaded only when there is a file to parse. */
export async function loadConfig(host: Host, explicit: string | undefined): Promise<Config> {
  const { file, text } = await readConfigText(host, explicit);
  if (file === null || text === null) return defaultConfig();
  const { parseConfig } = await import('../config/load.js');
  return parseConfig(text, file);
}

export function openHost(root: string | undefined): Host {
  if (root === undefined) return new NodeHost('/');
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new UsageError(`--root ${root}: expected an existing directory`);
  return new NodeHost(root);
}

/** The options every command that judges a host takes. */
export interface HostValues {
  config?: string;
  role?: Role;
  root?: string;
  k3sVersion?: string;
}

export interface Prepared {
  ctx: Context & { k3s: K3sVersionChoice };
  roleChoice: RoleChoice;
}

/** The configuration, the role and the K3s version a run works with. */
export async function prepare(host: Host, values: HostValues, force = false): Promise<Prepared> {
  const config = await loadConfig(host, values.config);
  const roleChoice = chooseRole(host, values.role, config.role, config.source);
  const k3s = await chooseK3sVersion(host, values.k3sVersion, config, process.env.INSTALL_K3S_VERSION);
  return { ctx: { host, config, role: roleChoice.role, force, k3s }, roleChoice };
}

/**
 * The JUnit file (--junit: asked for on the command line, so a failure to write it is exit 3)
 * and the metrics file (metrics.textfilePath). apply gates K3s, so a metrics file it cannot
 * write is a warning (priority warning in the journal) that leaves its verdict alone; for check
 * it is exit 3.
 */
export function writeOutputs(report: Report, ctx: { host: Host; config: Config }, junit: string | undefined, err: NodeJS.WritableStream): number {
  let code: number = EXIT.compliant;
  if (junit !== undefined) {
    try {
      writeLocalFile(junit, renderJunit(report));
    } catch (error) {
      err.write(`k3s-hostprep: cannot write the JUnit report to ${junit}: ${describeError(error)}\n`);
      code = EXIT.host;
    }
  }
  // Metrics describe this machine: an offline root (--root) gets none.
  const metricsPath = ctx.config.metrics.textfilePath;
  if (metricsPath !== undefined && ctx.host.live) {
    try {
      writeMetricsFile(ctx.host, metricsPath, renderMetrics({ report, now: Date.now() }));
    } catch (error) {
      const fatal = report.command !== 'apply';
      const reason = `cannot write metrics to ${metricsPath}: ${describeError(error)}`;
      err.write(line(fatal ? PRIORITY.err : PRIORITY.warning, `k3s-hostprep: ${reason}${fatal ? '' : ' (apply goes on: metrics never stop K3s)'}`, {}, journalStream()));
      if (fatal) code = EXIT.host;
    }
  }
  return code;
}
