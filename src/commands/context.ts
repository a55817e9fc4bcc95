/** What the commands share: reading the configuration, opening the host, the context of a run, the output files. */
import * as fs from 'node:fs';
import { DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, defaultConfig } from '../config/defaults.js';
import type { Config, Role } from '../config/schema.js';
import type { Context } from '../controls/types.js';
import { ConfigError, EXIT, HostError, UsageError, describeError } from '../errors.js';
import type { Output } from '../host/fd-output.js';
import type { Host } from '../host/host.js';
import { NodeHost } from '../host/node-host.js';
import * as path from 'node:path';
import { KUBELET_SYSCTLS } from '../k3s/kubelet-sysctls.js';
import { liveSysctlProblem } from '../sysctl/extra.js';
import { chooseK3sVersion } from '../k3s/choose.js';
import { chooseBenchmark } from '../k3s/benchmarks/index.js';
import type { K3sVersionChoice } from '../k3s/version.js';
import { renderJunit } from '../report/junit.js';
import type { Report } from '../report/model.js';
import { renderMetrics } from '../report/prometheus.js';
import { writeLocalFile, writeMetricsFile } from '../outputs.js';
import { chooseRole, type RoleChoice } from '../role.js';
import { journalStream } from '../host/journal-stream.js';
import { PRIORITY, line } from '../watch/journal.js';

/**
 * Reads a configuration file through the host's one reader: a regular file of at most
 * MAX_CONFIG_BYTES that only root can change, in directories only root can change (on its
 * written and its resolved path), or null when there is none. Anything else is a ConfigError
 * (exit 2) naming the file and the fix: a root agent never takes instructions from a file
 * another user could have written.
 */
function readConfigBytes(host: Host, logical: string, shown: string, optional: boolean): Uint8Array | null {
  let bytes: Uint8Array | null;
  try {
    bytes = host.readFile(logical, { maxBytes: MAX_CONFIG_BYTES });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EFBIG') {
      const size = /is (\d+) bytes/.exec(describeError(error))?.[1];
      throw new ConfigError(shown, [`the configuration file is ${size ?? 'more than'} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`], {
        cause: error,
      });
    }
    if (code === 'ESPECIAL') throw new ConfigError(shown, ['cannot read the configuration file: not a regular file'], { cause: error });
    if (code === 'EUNTRUSTED') throw new ConfigError(shown, [`not trusted: ${describeError(error)}`], { cause: error });
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  if (bytes === null && !optional) throw new ConfigError(shown, ['cannot read the configuration file: ENOENT: no such file or directory']);
  return bytes;
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
  if (explicit !== undefined) {
    // --config names a file on this machine, read by the same rule.
    const local = host.root === '/' ? host : new NodeHost('/', false);
    return { file: explicit, text: await decode(readConfigBytes(local, path.resolve(explicit), explicit, false)!, explicit) };
  }
  const shown = host.realPath(DEFAULT_CONFIG_PATH);
  const bytes = readConfigBytes(host, DEFAULT_CONFIG_PATH, shown, true);
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
  const host = new NodeHost(root);
  // The root itself is held to the rule: a user who owns the image could swap what is inside it.
  const why = host.untrusted('/');
  if (why !== null) throw new HostError(`--root ${root} is not trusted: ${why}`);
  return host;
}

/**
 * Extra kernel parameters must exist in the running kernel and take the value given, before
 * anything is written (exit 2, nothing written). Under --root the image's kernel is not running:
 * only the static rules (the schema's) apply there.
 */
export function checkExtraSysctls(host: Host, config: Config): void {
  if (!host.live) return;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config.sysctl)) {
    if (KUBELET_SYSCTLS.some(([k]) => k === key)) continue;
    let live: string | null;
    try {
      live = host.readSysctl(key);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      live = code === 'ENOENT' || code === 'ENOTDIR' ? null : '';
    }
    const problem = liveSysctlProblem(key, value, live);
    if (problem) problems.push(`sysctl.${key}: ${problem}`);
  }
  if (problems.length > 0) throw new ConfigError(config.source, problems);
}

/** The options every command that judges a host takes. */
export interface HostValues {
  config?: string;
  role?: Role;
  root?: string;
  k3sVersion?: string;
  benchmark?: string;
}

export interface Prepared {
  ctx: Context & { k3s: K3sVersionChoice };
  roleChoice: RoleChoice;
}

/** The configuration, the role and the K3s version a run works with. */
export async function prepare(host: Host, values: HostValues, force = false, liveSysctls = true): Promise<Prepared> {
  const config = await loadConfig(host, values.config);
  if (liveSysctls) checkExtraSysctls(host, config);
  const roleChoice = chooseRole(host, values.role, config.role, config.source);
  const k3s = await chooseK3sVersion(host, values.k3sVersion, config, process.env.INSTALL_K3S_VERSION);
  const benchmark = chooseBenchmark(values.benchmark, config, k3s.version);
  if ('error' in benchmark) {
    if (benchmark.where === '--benchmark') throw new UsageError(`--benchmark: ${benchmark.error}`);
    throw new ConfigError(benchmark.where, [benchmark.error]);
  }
  return { ctx: { host, config, role: roleChoice.role, force, k3s, benchmark }, roleChoice };
}

/**
 * The JUnit file (--junit: asked for on the command line, so a failure to write it is exit 3)
 * and the metrics file (metrics.textfilePath). apply gates K3s, so a metrics file it cannot
 * write is a warning (priority warning in the journal) that leaves its verdict alone; for check
 * it is exit 3.
 */
export function writeOutputs(report: Report, ctx: { host: Host; config: Config }, junit: string | undefined, err: Output): number {
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
      err.write(
        line(fatal ? PRIORITY.err : PRIORITY.warning, `k3s-hostprep: ${reason}${fatal ? '' : ' (apply goes on: metrics never stop K3s)'}`, {}, journalStream()),
      );
      if (fatal) code = EXIT.host;
    }
  }
  return code;
}
