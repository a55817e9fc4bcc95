/**
 * Every option of the command line, declared once: its name, the placeholder of its value, its
 * help and how its text becomes a value. Commands list the options they take (src/commands/*.ts);
 * the parser and the help are made from those lists, so they cannot disagree.
 */
import type { Role } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { isVersion, parseK3sVersion } from '../k3s/version.js';
import { BENCHMARK_NAMES, isBenchmarkName } from '../k3s/benchmarks/names.js';

export interface Option<T> {
  /** The long name, without "--". */
  readonly name: string;
  /** A one-letter alias, without "-". */
  readonly short?: string;
  /** The placeholder of the value in help ("FILE"); absent for a flag, which takes no value. */
  readonly value?: string;
  /** One line of help. */
  readonly help: string;
  /** The value from its text; throws a UsageError that names the option. */
  parse(text: string): T;
}

export type AnyOption = Option<unknown>;

/** A flag: present or not. */
export function flag(name: string, help: string, short?: string): Option<boolean> {
  return { name, help, ...(short !== undefined ? { short } : {}), parse: () => true };
}

export function valued<T>(name: string, value: string, help: string, parse: (text: string, option: string) => T): Option<T> {
  return { name, value, help, parse: (text) => parse(text, `--${name}`) };
}

/** The same option with the help its command needs (e.g. what --json prints there). */
export function withHelp<T>(option: Option<T>, help: string): Option<T> {
  return { ...option, help };
}

function path(text: string, option: string): string {
  if (text === '') throw new UsageError(`${option}: expected a path, got an empty string`);
  return text;
}

function seconds(min: number, max: number, whole: boolean) {
  return (text: string, option: string): number => {
    const n = (whole ? /^\d+$/ : /^\d+(\.\d+)?$/).test(text) ? Number(text) : NaN;
    if (!(n >= min && n <= max)) {
      throw new UsageError(`${option}: expected ${whole ? 'whole seconds' : 'a number of seconds'} from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
}

export const HELP = flag('help', 'show this help', 'h');
export const VERSION = flag('version', 'print the version', 'V');
export const JSON_REPORT = flag('json', 'print the report as JSON');
export const FORCE = flag('force', 'replace files written by someone else (a backup is kept beside them)');
export const CONFIG = valued('config', 'FILE', 'configuration (default /etc/k3s-hostprep/config.yaml, optional)', path);
export const ROLE = valued(
  'role',
  'server|agent',
  'node role (default: the config, else the installed k3s / k3s-agent unit, else server)',
  (text, option): Role => {
    if (text !== 'server' && text !== 'agent') throw new UsageError(`${option}: expected server or agent, got "${text}"`);
    return text;
  },
);
export const ROOT = valued('root', 'DIR', 'prepare an offline root (an image or a mounted disk); the running kernel is not touched', path);
export const K3S_VERSION = valued(
  'k3s-version',
  'V',
  'the K3s version to prepare for: v1.28.5+k3s1, 1.28.5 or a line such as v1.28 (default: the config, else k3s --version, else INSTALL_K3S_VERSION, else the newest line)',
  (text, option) => {
    const parsed = parseK3sVersion(text);
    if (!isVersion(parsed)) throw new UsageError(`${option}: ${parsed.error}`);
    return text;
  },
);
export const BENCHMARK = valued(
  'benchmark',
  'NAME',
  `the kube-bench benchmark to judge with: ${BENCHMARK_NAMES.join(', ')} (default: the config, else kube-bench's choice for the K3s line)`,
  (text, option) => {
    if (!isBenchmarkName(text)) throw new UsageError(`${option}: unknown benchmark ${JSON.stringify(text)}; expected one of ${BENCHMARK_NAMES.join(', ')}`);
    return text;
  },
);
export const JUNIT = valued('junit', 'FILE', 'also write the report as JUnit XML to FILE (for CI pipelines)', path);
export const WAIT = valued('wait', 'SECONDS', "how long to wait for another run's lock (default 60; 0: fail at once)", seconds(0, 86_400, false));
export const TIMEOUT = valued('timeout', 'SECONDS', 'how long to wait for the Kubernetes API (default 300)', seconds(1, 86_400, true));
export const BINARY = valued('binary', 'FILE', 'the executable to install (default: this single executable; under Node.js, a launcher)', path);
export const AGENT_URL = valued('agent-url', 'URL', 'cloud-init: the release tarball nodes download (scripts/build-sea)', (text) => text);
export const AGENT_SHA256 = valued('agent-sha256', 'HEX', 'cloud-init: its SHA-256, checked before anything runs', (text) => text);
export const K3S_INSTALLER_SHA256 = valued(
  'k3s-installer-sha256',
  'HEX',
  'cloud-init: the SHA-256 of the K3s installer script (get.k3s.io), checked before it runs',
  (text) => text,
);
export const KUBECONFIG = valued('kubeconfig', 'FILE', 'a kubeconfig only root can change (default /etc/rancher/k3s/k3s.yaml; KUBECONFIG is ignored)', path);
