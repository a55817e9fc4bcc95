/**
 * kube-bench's k3s-cis-1.24 tests for the flags a K3s configuration sets, judged on the merged
 * configuration (config.yaml plus drop-ins) the way K3s will pass them to its components. Pure.
 */
import type { Config, Role } from '../config/schema.js';
import type { MergedConfig, MergedItem } from './config-files.js';
import { hasPodSecurityPolicy, type K3sVersion } from './version.js';
import { needsAdmissionConfig } from './settings.js';
import { AUDIT_MINIMUMS } from './audit-retention.js';
import { PSA_FILE } from './paths.js';

export type ArgKey = 'kube-apiserver-arg' | 'kubelet-arg' | 'kube-controller-manager-arg';

/** One flag as K3s passes it: "--name=value", from the file that gave it. */
export interface EffectiveFlag {
  value: string;
  file: string;
}

/** The component flags in a "*-arg" list: "name=value" (a leading "--" allowed; no "=" means "true"). */
export function componentFlags(merged: MergedConfig, key: ArgKey): Map<string, EffectiveFlag[]> {
  const out = new Map<string, EffectiveFlag[]>();
  for (const item of merged.get(key)?.items ?? []) {
    const text = item.value.replace(/^--/, '');
    const eq = text.indexOf('=');
    const name = (eq < 0 ? text : text.slice(0, eq)).replace(/[+-]+$/, '');
    const value = eq < 0 ? 'true' : text.slice(eq + 1);
    if (!out.has(name)) out.set(name, []);
    out.get(name)!.push({ value, file: item.file });
  }
  return out;
}

export interface BenchResult {
  status: 'pass' | 'fail' | 'warn';
  actual: string;
  reason: string;
}

export interface BenchCheck {
  cis: string;
  /** What is judged, e.g. "kube-apiserver --audit-log-maxage". */
  item: string;
  /** The K3s configuration key the value lives under, for naming a file that wiped it. */
  key: string;
  expected: string;
  judge(view: EffectiveView): BenchResult;
}

/** The merged configuration, seen flag by flag. */
export class EffectiveView {
  constructor(readonly merged: MergedConfig) {}

  /** Every occurrence of a component flag, in order. */
  all(key: ArgKey, flag: string): EffectiveFlag[] {
    return componentFlags(this.merged, key).get(flag) ?? [];
  }

  /** The last occurrence (what a single-valued flag ends up as), or null. */
  last(key: ArgKey, flag: string): EffectiveFlag | null {
    const all = this.all(key, flag);
    return all.length > 0 ? all[all.length - 1]! : null;
  }

  /** A top-level K3s flag (protect-kernel-defaults, secrets-encryption): its last value. */
  top(key: string): MergedItem | null {
    const items = this.merged.get(key)?.items ?? [];
    return items.length > 0 ? items[items.length - 1]! : null;
  }

  /**
   * enable-admission-plugins as the API server sees it: repeated flags accumulate (a string
   * slice), comma-separated; K3s' own default is NodeRestriction when no file sets it.
   */
  plugins(flag: 'enable-admission-plugins' | 'disable-admission-plugins'): { names: string[]; files: string[] } | null {
    const all = this.all('kube-apiserver-arg', flag);
    if (all.length === 0) return flag === 'enable-admission-plugins' ? { names: ['NodeRestriction'], files: ['K3s default'] } : null;
    return { names: all.flatMap((f) => f.value.split(',').map((s) => s.trim()).filter(Boolean)), files: [...new Set(all.map((f) => f.file))] };
  }
}

const ok = (actual: string): BenchResult => ({ status: 'pass', actual, reason: '' });
const bad = (actual: string, reason: string): BenchResult => ({ status: 'fail', actual, reason });
const shown = (flag: string, f: EffectiveFlag | MergedItem | null) => (f === null ? 'not set' : `--${flag}=${f.value} (${f.file})`);

function isTrue(value: string): boolean {
  return value.toLowerCase() === 'true';
}

function intValue(value: string): number | null {
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : null;
}

function apiSet(cis: string, flag: string, extra?: (f: EffectiveFlag) => string | null, expected = 'set'): BenchCheck {
  return {
    cis,
    item: `kube-apiserver --${flag}`,
    key: 'kube-apiserver-arg',
    expected,
    judge(view) {
      const f = view.last('kube-apiserver-arg', flag);
      if (f === null) return bad('not set', `--${flag} is not set for the API server.`);
      const problem = extra?.(f) ?? null;
      return problem ? bad(shown(flag, f), problem) : ok(shown(flag, f));
    },
  };
}

function apiAtLeast(cis: string, flag: string, min: number): BenchCheck {
  return apiSet(cis, flag, (f) => {
    const n = intValue(f.value);
    return n !== null && n >= min ? null : `--${flag} is ${f.value}; the benchmark asks for at least ${min}.`;
  }, `>= ${min}`);
}

/** A component flag the benchmark wants true, where not setting it is true too (the default). */
function trueOrUnset(cis: string, key: ArgKey, component: string, flag: string): BenchCheck {
  return {
    cis,
    item: `${component} --${flag}`,
    key,
    expected: 'true or not set',
    judge(view) {
      const f = view.last(key, flag);
      return f === null || isTrue(f.value) ? ok(shown(flag, f)) : bad(shown(flag, f), `--${flag} is not true.`);
    },
  };
}

/** A top-level K3s flag that must be set to true. */
function topTrue(cis: string, key: string, expected: string, reason: string): BenchCheck {
  return {
    cis,
    item: key,
    key,
    expected,
    judge(view) {
      const f = view.top(key);
      return f !== null && isTrue(f.value) ? ok(shown(key, f)) : bad(shown(key, f), reason);
    },
  };
}

function pluginCheck(cis: string, plugin: string, want: 'has' | 'nothave', flag: 'enable-admission-plugins' | 'disable-admission-plugins' = 'enable-admission-plugins', alternative?: string): BenchCheck {
  return {
    cis,
    item: `kube-apiserver --${flag} ${want === 'has' ? 'has' : 'lacks'} ${plugin}${alternative ? ` or ${alternative}` : ''}`,
    key: 'kube-apiserver-arg',
    expected: want === 'has' ? `includes ${plugin}` : `does not include ${plugin}`,
    judge(view) {
      const p = view.plugins(flag);
      if (p === null) return ok('not set');
      const actual = `${p.names.join(',')} (${p.files.join(', ')})`;
      const has = p.names.includes(plugin) || (alternative !== undefined && p.names.includes(alternative));
      if (want === 'has') return has ? ok(actual) : bad(actual, `--${flag} does not include ${plugin}.`);
      return has ? bad(actual, `--${flag} includes ${plugin}.`) : ok(actual);
    },
  };
}

/** The checks that apply to a node of this role and version under this configuration. */
export function benchmarkChecks(config: Config, version: K3sVersion, role: Role): BenchCheck[] {
  const checks: BenchCheck[] = [
    topTrue('4.2.6', 'protect-kernel-defaults', 'true', 'the kubelet does not run with --protect-kernel-defaults=true.'),
    trueOrUnset('4.2.7', 'kubelet-arg', 'kubelet', 'make-iptables-util-chains'),
  ];
  if (role !== 'server') return checks;
  checks.push(
    pluginCheck('1.2.11', 'AlwaysAdmit', 'nothave'),
    ...(hasPodSecurityPolicy(version) ? [pluginCheck('1.2.13', 'PodSecurityPolicy', 'has', 'enable-admission-plugins', 'SecurityContextDeny')] : []),
    pluginCheck('1.2.14', 'ServiceAccount', 'nothave', 'disable-admission-plugins'),
    pluginCheck('1.2.15', 'NamespaceLifecycle', 'nothave', 'disable-admission-plugins'),
    pluginCheck('1.2.16', 'NodeRestriction', 'has'),
    apiSet('1.2.19', 'audit-log-path'),
    apiAtLeast('1.2.20', 'audit-log-maxage', AUDIT_MINIMUMS.logMaxAge),
    apiAtLeast('1.2.21', 'audit-log-maxbackup', AUDIT_MINIMUMS.logMaxBackup),
    apiAtLeast('1.2.22', 'audit-log-maxsize', AUDIT_MINIMUMS.logMaxSize),
    apiSet('1.2.23', 'request-timeout'),
    trueOrUnset('1.2.24', 'kube-apiserver-arg', 'kube-apiserver', 'service-account-lookup'),
    topTrue('1.2.30', 'secrets-encryption', 'true (K3s then passes --encryption-provider-config)', 'secrets-encryption is not true: K3s does not pass --encryption-provider-config.'),
    {
      cis: '1.3.1',
      item: 'kube-controller-manager --terminated-pod-gc-threshold',
      key: 'kube-controller-manager-arg',
      expected: 'set',
      judge(view) {
        const f = view.last('kube-controller-manager-arg', 'terminated-pod-gc-threshold');
        return f === null ? bad('not set', '--terminated-pod-gc-threshold is not set for the controller manager.') : ok(shown('terminated-pod-gc-threshold', f));
      },
    },
    apiSet('3.2.1', 'audit-policy-file'),
  );
  if (config.eventRateLimit !== undefined) {
    checks.push(pluginCheck('1.2.10', 'EventRateLimit', 'has'));
  } else {
    checks.push({
      cis: '1.2.10',
      item: 'kube-apiserver --enable-admission-plugins has EventRateLimit',
      key: 'kube-apiserver-arg',
      expected: 'includes EventRateLimit',
      judge(view) {
        const p = view.plugins('enable-admission-plugins');
        const names = p?.names ?? [];
        if (names.includes('EventRateLimit')) return ok(names.join(','));
        return { status: 'warn', actual: names.join(',') || 'not set', reason: 'EventRateLimit is not enabled: its limits depend on the cluster. Set eventRateLimit in the k3s-hostprep config to enable it with its configuration (never without one: the API server would not start).' };
      },
    });
  }
  if (needsAdmissionConfig(config, version)) {
    checks.push(apiSet('5.2.1', 'admission-control-config-file', (f) => (f.value === PSA_FILE ? null : `--admission-control-config-file is ${f.value}, not ${PSA_FILE}: the pod security${config.eventRateLimit ? ' and EventRateLimit' : ''} configuration k3s-hostprep writes is not used.`), PSA_FILE));
  }
  return checks;
}
