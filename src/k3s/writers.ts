/**
 * What apply writes into K3s' configuration, one writer per flag, and the checks each serves.
 * A writer names the component flag (or admission plugin) a benchmark row tests; the drop-in is
 * made from these writers, its comments carry the ids of the rows that test the flag, and a test
 * holds that no writer lacks a judging row (or a stated reason) and no row that k3s-hostprep can
 * hold lacks a writer or K3s' own default. Pure.
 */
import type { Config, Role } from '../config/schema.js';
import { AUDIT_LOG_FILE, AUDIT_POLICY_FILE, PSA_FILE } from './paths.js';
import type { BenchRow, Component } from './rows.js';
import { atLeast, hasPodSecurityPolicy, type K3sVersion } from './version.js';
import { kubeletConfigFileEra } from './k3s-args.js';

export type ArgKey = 'kube-apiserver-arg' | 'kube-controller-manager-arg' | 'kubelet-arg';

export const KEY_COMPONENT: Record<ArgKey, Component> = {
  'kube-apiserver-arg': 'kube-apiserver',
  'kube-controller-manager-arg': 'kube-controller-manager',
  'kubelet-arg': 'kubelet',
};

/** The kubelet cipher suites of the hardening guide (and of kube-bench's 4.2.12 list). */
export const GUIDE_KUBELET_CIPHERS =
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305';

export interface Written {
  key: ArgKey;
  /** The flag name as the benchmark tests it, without "--". */
  flag: string;
  value: string;
  /** For enable-admission-plugins: the plugins, each judged by its own row. */
  plugins?: string[];
  /** Why it is written where no row of the selected benchmark tests it: the guide asks for it. */
  guide?: string;
}

/** The admission plugins apply enables: the guide's tab for the line plus the configuration's knobs. */
export function enabledPlugins(config: Config, version: K3sVersion): string[] {
  const plugins = ['NodeRestriction'];
  if (hasPodSecurityPolicy(version)) plugins.push('PodSecurityPolicy', 'NamespaceLifecycle', 'ServiceAccount');
  if (config.eventRateLimit) plugins.push('EventRateLimit');
  if (config.admission.alwaysPullImages) plugins.push('AlwaysPullImages');
  if (config.admission.denyServiceExternalIPs) plugins.push('DenyServiceExternalIPs');
  return plugins;
}

/** Whether an admission configuration file (psa.yaml) is needed: PodSecurity on v1.25+, or EventRateLimit's configuration. */
export function needsAdmissionConfig(config: Config, version: K3sVersion): boolean {
  return !hasPodSecurityPolicy(version) || config.eventRateLimit !== false;
}

/** The kubelet flags for every node. */
export function kubeletWrites(config: Config, version: K3sVersion): Written[] {
  const out: Written[] = [];
  if (hasPodSecurityPolicy(version))
    out.push({ key: 'kubelet-arg', flag: 'make-iptables-util-chains', value: 'true', guide: "the hardening guide's v1.24 tab" });
  out.push({ key: 'kubelet-arg', flag: 'streaming-connection-idle-timeout', value: '5m' });
  if (config.kubelet.tlsCipherSuites)
    out.push({ key: 'kubelet-arg', flag: 'tls-cipher-suites', value: GUIDE_KUBELET_CIPHERS, guide: "the hardening guide's kubelet-arg" });
  // K3s logs the line inside msg="..." (logrus' text format under systemd; a real line of K3s
  // v1.33 ends `--node-labels= --read-only-port=0"`): the last flag's value carries the closing
  // quote, and kube-bench reads it with it (findValue's [^\s]*), so 4.2.4's eq 0 and 4.2.12's
  // valid_elements would fail on it. A flag that sorts after read-only-port and tls-cipher-suites
  // keeps them off the end; TLS 1.2 is the floor the guide's ciphers imply anyway.
  out.push({
    key: 'kubelet-arg',
    flag: 'tls-min-version',
    value: 'VersionTLS12',
    guide: 'keeps read-only-port and tls-cipher-suites off the end of the logged kubelet line',
  });
  if (config.kubelet.podMaxPids !== undefined)
    out.push({
      key: 'kubelet-arg',
      flag: 'pod-max-pids',
      value: String(config.kubelet.podMaxPids),
      guide: "the hardening guide's manual operation for a pod PID limit",
    });
  // K3s v1.32.1-v1.32.3 dropped it from the kubelet's command line, where kube-bench's 4.2.4 looks;
  // pinned from v1.30 on (whether v1.30/v1.31 moved the kubelet to a config file is not known).
  if (atLeast(version, 30) || kubeletConfigFileEra(version)) out.push({ key: 'kubelet-arg', flag: 'read-only-port', value: '0' });
  return out;
}

/** k3s-cis-1.23 skips the audit log checks (K3s leaves auditing to the operator); the guide writes them. */
const AUDIT_GUIDE = "the hardening guide's audit logging";

/** The API server and controller manager flags for servers. */
export function serverWrites(config: Config, version: K3sVersion, options: { admissionConfigFile: boolean } = { admissionConfigFile: true }): Written[] {
  const withFile = options.admissionConfigFile && needsAdmissionConfig(config, version);
  const plugins = enabledPlugins(config, version).filter((p) => withFile || p !== 'EventRateLimit');
  const out: Written[] = [
    { key: 'kube-apiserver-arg', flag: 'enable-admission-plugins', value: plugins.join(','), plugins },
    { key: 'kube-apiserver-arg', flag: 'audit-policy-file', value: AUDIT_POLICY_FILE, guide: AUDIT_GUIDE },
    { key: 'kube-apiserver-arg', flag: 'audit-log-path', value: AUDIT_LOG_FILE, guide: AUDIT_GUIDE },
    { key: 'kube-apiserver-arg', flag: 'audit-log-maxage', value: String(config.audit.logMaxAge), guide: AUDIT_GUIDE },
    { key: 'kube-apiserver-arg', flag: 'audit-log-maxbackup', value: String(config.audit.logMaxBackup), guide: AUDIT_GUIDE },
    { key: 'kube-apiserver-arg', flag: 'audit-log-maxsize', value: String(config.audit.logMaxSize), guide: AUDIT_GUIDE },
    { key: 'kube-apiserver-arg', flag: 'request-timeout', value: '300s', guide: "the hardening guide's manual operation for the request timeout" },
    { key: 'kube-apiserver-arg', flag: 'service-account-lookup', value: 'true' },
  ];
  if (atLeast(version, 29)) {
    out.push({
      key: 'kube-apiserver-arg',
      flag: 'service-account-extend-token-expiration',
      value: 'false',
      guide: "the hardening guide's v1.29+ tab (CIS 2.x 1.2.30); no kube-bench k3s benchmark tests it",
    });
  }
  if (withFile)
    out.push({
      key: 'kube-apiserver-arg',
      flag: 'admission-control-config-file',
      value: PSA_FILE,
      guide: 'PodSecurity and EventRateLimit read their configuration from it; without it EventRateLimit stops the API server',
    });
  out.push({ key: 'kube-controller-manager-arg', flag: 'terminated-pod-gc-threshold', value: String(config.terminatedPodGcThreshold) });
  return out;
}

export function writes(config: Config, version: K3sVersion, role: Role, options?: { admissionConfigFile: boolean }): Written[] {
  return [...kubeletWrites(config, version), ...(role === 'server' ? serverWrites(config, version, options) : [])];
}

/** Per benchmark: its automated rows that read a component's line, by "component --flag", each with the values its tests name. */
const JUDGING = new WeakMap<readonly BenchRow[], Map<string, Array<{ row: BenchRow; values: Array<string | undefined> }>>>();

function judgingIndex(rows: readonly BenchRow[]): Map<string, Array<{ row: BenchRow; values: Array<string | undefined> }>> {
  let index = JUDGING.get(rows);
  if (index) return index;
  index = new Map();
  for (const row of rows) {
    if (row.type !== 'automated' || row.reads.kind !== 'line' || !row.tests) continue;
    const byFlag = new Map<string, Array<string | undefined>>();
    for (const t of row.tests.items) {
      if (t.flag === undefined) continue;
      const values = byFlag.get(t.flag) ?? [];
      values.push(t.value);
      byFlag.set(t.flag, values);
    }
    for (const [flag, values] of byFlag) {
      const key = `${row.reads.component} ${flag}`;
      const list = index.get(key) ?? [];
      list.push({ row, values });
      index.set(key, list);
    }
  }
  JUDGING.set(rows, index);
  return index;
}

/** The rows of a benchmark that test a flag of a component (or, for a plugin, that plugin), in the benchmark's order. */
export function rowsJudging(rows: readonly BenchRow[], component: Component, flag: string, plugin?: string): BenchRow[] {
  return (judgingIndex(rows).get(`${component} --${flag}`) ?? []).filter((e) => plugin === undefined || e.values.includes(plugin)).map((e) => e.row);
}

/** The ids a written flag serves in this benchmark, for the drop-in's comments. */
export function idsFor(rows: readonly BenchRow[], w: Written): string[] {
  const component = KEY_COMPONENT[w.key];
  const ids = w.plugins
    ? w.plugins.flatMap((p) => rowsJudging(rows, component, w.flag, p).map((r) => r.id))
    : rowsJudging(rows, component, w.flag).map((r) => r.id);
  return [...new Set(ids)];
}

/** The configuration knob behind a row k3s-hostprep leaves to the operator, in words; null when none. */
export function rowNote(row: BenchRow, ctx: { config: Config }): string | null {
  const tests = row.tests?.items ?? [];
  const has = (flag: string, value?: string) => tests.some((t) => t.flag === flag && (value === undefined || t.value === value));
  if (row.reads.kind === 'process' && tests.some((t) => t.flag?.startsWith('--'))) {
    return "kube-bench's audit reads the process list of containerd (K3s' $apiserverbin), which never carries API server flags: it warns whatever the node holds.";
  }
  if (has('--enable-admission-plugins', 'AlwaysPullImages') && !ctx.config.admission.alwaysPullImages) {
    return 'Left to the operator: AlwaysPullImages makes every pod pull its images and fails pods on nodes without registry access. Set admission.alwaysPullImages: true in the k3s-hostprep configuration to enable it.';
  }
  if (
    has('--enable-admission-plugins', 'DenyServiceExternalIPs') &&
    row.tests?.items.some((t) => t.op === 'has') &&
    !ctx.config.admission.denyServiceExternalIPs
  ) {
    return 'Left to the operator: DenyServiceExternalIPs rejects Services with externalIPs that some load balancers use. Set admission.denyServiceExternalIPs: true to enable it.';
  }
  if (has('--enable-admission-plugins', 'EventRateLimit') && ctx.config.eventRateLimit === false) {
    return 'Left to the operator: eventRateLimit is switched off in the k3s-hostprep configuration.';
  }
  if (has('--pod-max-pids') && ctx.config.kubelet.podMaxPids === undefined) {
    return "Left to the operator: a pod PID limit depends on the workloads. Set kubelet.podMaxPids in the k3s-hostprep configuration (the kubelet's --pod-max-pids).";
  }
  if (has('--tls-cipher-suites') && row.reads.kind === 'line' && row.reads.component === 'kubelet' && !ctx.config.kubelet.tlsCipherSuites) {
    return 'Left to the operator: kubelet.tlsCipherSuites is false in the k3s-hostprep configuration.';
  }
  if (has('--streaming-connection-idle-timeout') && row.tests?.items.some((t) => t.op === 'noteqx')) {
    return "kube-bench's own test uses an operator it does not know (noteqx), so any value set warns; the guide's 5m is kept.";
  }
  if (row.reads.kind === 'cluster' && /serviceaccounts/.test(row.reads.objects)) {
    return 'k3s-hostprep service-accounts (its timer runs after K3s is up) sets automountServiceAccountToken: false on every default ServiceAccount.';
  }
  return null;
}
