/** The command line: parsed strictly, every mistake a UsageError (exit 2). */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { Role } from './config/schema.js';
import { isVersion, parseK3sVersion } from './k3s/version.js';

export const COMMANDS = ['apply', 'check', 'plan', 'render', 'install', 'uninstall', 'service-accounts', 'watch'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface Invocation {
  command: CommandName | null;
  help: boolean;
  version: boolean;
  json: boolean;
  force: boolean;
  config?: string;
  role?: Role;
  root?: string;
  artefact?: string;
  /** install: the file to install as /usr/local/bin/k3s-hostprep. */
  binary?: string;
  /** service-accounts: how long to wait for the Kubernetes API, in seconds. */
  timeoutSeconds?: number;
  /** service-accounts: a kubeconfig other than K3s' own (it must be trusted: only root can change it). */
  kubeconfig?: string;
  /** render cloud-init: the SHA-256 of the K3s installer script the node runs. */
  k3sInstallerSha256?: string;
  /** render cloud-init: the release tarball nodes download, and its SHA-256. */
  agentUrl?: string;
  agentSha256?: string;
  k3sVersion?: string;
  /** check, apply: write a JUnit XML report to this file. */
  junit?: string;
  /** watch: run this many cycles back to back, then exit. */
  cycles?: number;
  /** apply: seconds to wait for another run's lock. */
  wait?: number;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
  config: { type: 'string' },
  role: { type: 'string' },
  root: { type: 'string' },
  binary: { type: 'string' },
  timeout: { type: 'string' },
  kubeconfig: { type: 'string' },
  'k3s-installer-sha256': { type: 'string' },
  'agent-url': { type: 'string' },
  'agent-sha256': { type: 'string' },
  'k3s-version': { type: 'string' },
  junit: { type: 'string' },
  cycles: { type: 'string' },
  wait: { type: 'string' },
} as const;

/** Which options each command takes; anything else is a usage error. */
const ALLOWED: Record<CommandName, ReadonlyArray<keyof typeof OPTIONS>> = {
  apply: ['help', 'json', 'force', 'config', 'role', 'root', 'k3s-version', 'junit', 'wait'],
  check: ['help', 'json', 'config', 'role', 'root', 'k3s-version', 'junit'],
  plan: ['help', 'json', 'force', 'config', 'role', 'root', 'k3s-version'],
  render: ['help', 'config', 'role', 'root', 'k3s-version', 'agent-url', 'agent-sha256', 'k3s-installer-sha256'],
  install: ['help', 'force', 'root', 'binary', 'config'],
  uninstall: ['help', 'force', 'root'],
  'service-accounts': ['help', 'json', 'timeout', 'kubeconfig'],
  watch: ['help', 'config', 'role', 'k3s-version', 'cycles'],
};

export function parseInvocation(argv: readonly string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''), { cause: error });
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  if (first !== undefined && !(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command "${first}"; expected one of ${COMMANDS.join(', ')}`);
  }
  const command = (first as CommandName | undefined) ?? null;
  if (command) {
    for (const name of Object.keys(values)) {
      if (!ALLOWED[command].includes(name as keyof typeof OPTIONS)) throw new UsageError(`${command} does not take --${name}`);
    }
  }
  if (command === 'render') {
    if (rest.length > 1) throw new UsageError(`render takes one artefact, got ${rest.length}`);
  } else if (rest.length > 0) {
    throw new UsageError(`unexpected argument "${rest[0]}"`);
  }
  if (values.role !== undefined && values.role !== 'server' && values.role !== 'agent') {
    throw new UsageError(`--role: expected server or agent, got "${values.role}"`);
  }
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSeconds = Number(values.timeout);
    if (!/^\d+$/.test(values.timeout) || timeoutSeconds < 1 || timeoutSeconds > 86_400) throw new UsageError(`--timeout: expected whole seconds from 1 to 86400, got "${values.timeout}"`);
  }
  for (const name of ['config', 'root', 'binary', 'junit', 'kubeconfig'] as const) {
    if (values[name] === '') throw new UsageError(`--${name}: expected a path, got an empty string`);
  }
  const k3sVersion = values['k3s-version'];
  if (k3sVersion !== undefined) {
    const parsed = parseK3sVersion(k3sVersion);
    if (!isVersion(parsed)) throw new UsageError(`--k3s-version: ${parsed.error}`);
  }
  let wait: number | undefined;
  if (values.wait !== undefined) {
    wait = /^\d+(\.\d+)?$/.test(values.wait) ? Number(values.wait) : NaN;
    if (!(wait >= 0 && wait <= 86_400)) throw new UsageError(`--wait: expected a number of seconds from 0 to 86400, got "${values.wait}"`);
  }
  return {
    command,
    help: values.help ?? false,
    version: values.version ?? false,
    json: values.json ?? false,
    force: values.force ?? false,
    ...(values.config !== undefined ? { config: values.config } : {}),
    ...(values.role !== undefined ? { role: values.role as Role } : {}),
    ...(values.root !== undefined ? { root: values.root } : {}),
    ...(command === 'render' && rest[0] !== undefined ? { artefact: rest[0] } : {}),
    ...(k3sVersion !== undefined ? { k3sVersion } : {}),
    ...(values.binary !== undefined ? { binary: values.binary } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values['k3s-installer-sha256'] !== undefined ? { k3sInstallerSha256: values['k3s-installer-sha256'] } : {}),
    ...(values['agent-url'] !== undefined ? { agentUrl: values['agent-url'] } : {}),
    ...(values['agent-sha256'] !== undefined ? { agentSha256: values['agent-sha256'] } : {}),
    ...(values.junit !== undefined ? { junit: values.junit } : {}),
    ...(values.cycles !== undefined ? { cycles: positiveInt('--cycles', values.cycles) } : {}),
    ...(wait !== undefined ? { wait } : {}),
  };
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag}: expected a positive integer, got "${value}"`);
  return n;
}
