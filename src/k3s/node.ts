/** What a control needs to know about the node's K3s: its version and whether Rancher manages it. */
import type { Config } from '../config/schema.js';
import type { Host } from '../host/host.js';
import type { Role } from '../config/schema.js';
import { K3S_CONFIG_FILE, RANCHER_DROPIN, readK3sConfig, type ConfigProblem, type K3sConfigFile, type KnownText } from './config-files.js';
import { ENV_FLAGS, commandLineFlags } from './unit-flags.js';
import { configFileOf, loadUnit, type LoadedUnit } from './unit-sources.js';
import { describeError } from '../errors.js';
import type { K3sVersionChoice } from './version.js';

/** The version chosen at the edge (chooseK3sVersion): every judgement depends on it, so it is never guessed here. */
export function k3sVersionOf(ctx: { k3s: K3sVersionChoice }): K3sVersionChoice {
  return ctx.k3s;
}

export interface RancherManagement {
  managed: boolean;
  /** Why, in words for the report. */
  why: string;
}

/**
 * Rancher owns K3s' flags when the config says so, or when rancher-system-agent's drop-in is
 * there as it writes it: a regular file owned by root. A symlink (dangling or not) or a file
 * another user owns by that name proves nothing and switches nothing off.
 */
export function rancherManagement(ctx: { host: Host; config: Config }): RancherManagement {
  if (ctx.config.rancherManaged) return { managed: true, why: `rancherManaged: true in ${ctx.config.source}` };
  const st = ctx.host.lstat(RANCHER_DROPIN);
  if (st?.isFile() && st.uid === 0) return { managed: true, why: `${RANCHER_DROPIN} exists (a regular file owned by root)` };
  return { managed: false, why: '' };
}

export interface K3sSources {
  /** The configuration file and its drop-ins, in K3s' order. */
  files: K3sConfigFile[];
  /** The flags in K3s' unit ExecStart (after its drop-ins), which K3s applies after the files; null without a unit. */
  unit: K3sConfigFile | null;
  /** Flags from the unit's environment (K3S_URL, K3S_DATASTORE_ENDPOINT...), which every other source overrides. */
  environment: K3sConfigFile | null;
  /** The configuration file K3s reads, and why. */
  configFile: { path: string; explicit: boolean; from: string };
  /** The unit file and its drop-ins, in systemd's order. */
  unitFiles: string[];
  problems: ConfigProblem[];
}

/** The sources in the order K3s applies them: environment, files, command line. */
export function orderedSources(s: Pick<K3sSources, 'files' | 'unit' | 'environment'>): K3sConfigFile[] {
  return [...(s.environment ? [s.environment] : []), ...s.files, ...(s.unit ? [s.unit] : [])];
}

/** Everything K3s takes its flags from on this node, in the order it applies them; files holding a `known` text are not parsed. */
export function k3sSources(host: Host, role: Role, known: readonly KnownText[] = []): K3sSources {
  const unitName = role === 'server' ? 'k3s.service' : 'k3s-agent.service';
  const problems: ConfigProblem[] = [];
  let loaded: LoadedUnit | null = null;
  try {
    loaded = loadUnit(host, unitName);
  } catch (error) {
    problems.push({ path: unitName, message: `cannot be read: ${describeError(error)}` });
  }
  if (loaded) problems.push(...loaded.problems);
  const configFile = configFileOf(loaded, K3S_CONFIG_FILE);
  const read = readK3sConfig(host, undefined, known, configFile);
  problems.push(...read.problems);
  const unit = loaded?.execStart ? commandLineFlags(loaded.execStart, `${loaded.execStartFile} (ExecStart)`) : null;
  const envEntries = [...(loaded?.environment ?? new Map<string, { value: string; file: string }>())]
    .filter(([k]) => ENV_FLAGS[k] !== undefined)
    .map(([k, v]) => ({ key: ENV_FLAGS[k]!, append: false, value: v.value }));
  const environment = envEntries.length > 0 ? { path: `${unitName} environment`, entries: envEntries } : null;
  return { files: read.files, unit, environment, configFile, unitFiles: loaded?.files ?? [], problems };
}
