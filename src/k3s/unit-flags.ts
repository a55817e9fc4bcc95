/**
 * Flags in K3s' systemd unit (the installer writes some into ExecStart). K3s puts config-file
 * values before the command line, so a list flag on the command line adds to the files' values
 * and a single-valued one wins over them: the unit is read as one more source after the
 * drop-ins. Parsing is pure.
 */
import type { ConfigEntry, K3sConfigFile } from './config-files.js';

/** K3s flags that repeat (string slices); every other flag takes the last value. */
const LIST_FLAGS = new Set([
  'kube-apiserver-arg',
  'kube-controller-manager-arg',
  'kube-scheduler-arg',
  'kube-cloud-controller-manager-arg',
  'kubelet-arg',
  'kube-proxy-arg',
  'etcd-arg',
  'disable',
  'node-label',
  'node-taint',
  'tls-san',
  'cluster-cidr',
  'service-cidr',
  'node-ip',
  'node-external-ip',
]);

/** K3s flags that take no value. */
const BOOL_FLAGS = new Set([
  'protect-kernel-defaults',
  'secrets-encryption',
  'cluster-init',
  'cluster-reset',
  'disable-network-policy',
  'disable-helm-controller',
  'disable-kube-proxy',
  'disable-cloud-controller',
  'disable-scheduler',
  'disable-apiserver',
  'disable-controller-manager',
  'disable-etcd',
  'selinux',
  'rootless',
  'embedded-registry',
  'prefer-bundled-bin',
  'docker',
  'flannel-ipv6-masq',
  'flannel-external-ip',
  'debug',
]);

/** Splits an ExecStart command line as systemd does: whitespace, '...' and "..." quoting, backslash escapes. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) out.push(current);
  return out;
}

/** The effective ExecStart= of a unit file's text (continuation lines joined; an empty one resets), or null. */
export function execStart(unitText: string): string | null {
  const joined = unitText.replace(/\\\r?\n/g, ' ');
  let last: string | null = null;
  for (const raw of joined.split('\n')) {
    const m = /^\s*ExecStart\s*=(.*)$/.exec(raw);
    if (!m) continue;
    const value = m[1]!.trim();
    last = value === '' ? null : value;
  }
  return last;
}

/** The K3s flags on a k3s server / k3s agent command line, as entries of a configuration source. */
export function unitFlags(unitText: string, source: string): K3sConfigFile | null {
  const line = execStart(unitText);
  return line === null ? null : commandLineFlags(line, source);
}

/** K3s' short flags (urfave/cli aliases) that a unit may use. */
const SHORT: Record<string, string> = { c: 'config', t: 'token', s: 'server' };

/** The K3s flags of an ExecStart= command line, after its "server" or "agent" word; null when it has neither. */
export function commandLineFlags(line: string, source: string): K3sConfigFile | null {
  const words = splitCommandLine(line.replace(/^[-@+!:|]+/, ''));
  const sub = words.findIndex((w) => w === 'server' || w === 'agent');
  if (sub < 0) return null;
  const entries: ConfigEntry[] = [];
  const args = words.slice(sub + 1);
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (!word.startsWith('-')) continue;
    const body = word.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const raw = eq < 0 ? body : body.slice(0, eq);
    const name = !word.startsWith('--') && SHORT[raw] ? SHORT[raw]! : raw;
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (BOOL_FLAGS.has(name)) value = 'true';
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) value = args[++i]!;
    else value = 'true';
    entries.push(LIST_FLAGS.has(name) ? { key: name, append: true, value: [value] } : { key: name, append: false, value });
  }
  return { path: source, entries };
}

/** K3s flags that take their value from the unit's environment when neither a file nor the command line sets them. */
export const ENV_FLAGS: Record<string, string> = {
  K3S_URL: 'server',
  K3S_DATASTORE_ENDPOINT: 'datastore-endpoint',
  K3S_DATASTORE_CAFILE: 'datastore-cafile',
  K3S_DATASTORE_CERTFILE: 'datastore-certfile',
  K3S_DATASTORE_KEYFILE: 'datastore-keyfile',
  K3S_CLUSTER_INIT: 'cluster-init',
};
