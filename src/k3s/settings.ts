/**
 * The K3s flags the hardening guide asks for, made once from the configuration and the K3s
 * version. The config.yaml.d drop-in and the Rancher cluster template are both rendered from
 * these, so they never disagree. Pure.
 */
import type { Config, Role } from '../config/schema.js';
import { yamlString as scalar } from '../yaml/emit.js';
import { hasPodSecurityPolicy, type K3sVersion } from './version.js';
import { benchmarkRows, k3sBenchmark, type BenchmarkName } from './benchmarks/index.js';
import { idsFor, kubeletWrites, needsAdmissionConfig, serverWrites, type Written } from './writers.js';

export { needsAdmissionConfig };

/** A flag value with the benchmark checks it serves. */
export interface Arg {
  arg: string;
  cis: string;
}

export interface K3sSettings {
  /** The benchmark whose ids the comments carry. */
  benchmark: BenchmarkName;
  /** Every node: kubelet flags. */
  node: {
    protectKernelDefaults: Arg;
    kubeletArgs: Arg[];
  };
  /** Servers only. */
  server: {
    secretsEncryption: Arg;
    apiserverArgs: Arg[];
    controllerManagerArgs: Arg[];
  };
}

function ids(benchmark: BenchmarkName, w: Written): string {
  const found = idsFor(benchmarkRows(benchmark), w);
  if (found.length > 0) return found.join(', ');
  return w.guide ? `guide: ${w.guide.split(';')[0]!.replace(/\s*\(.*$/, '')}` : 'guide';
}

/**
 * The settings, made from the writers (src/k3s/writers.ts). `admissionConfigFile`: whether the
 * API server is pointed at psa.yaml (the drop-in does; under Rancher, its own pod security
 * template takes that place and EventRateLimit, which has no configuration there, is left out).
 */
export function k3sSettings(
  config: Config,
  version: K3sVersion,
  options: { admissionConfigFile: boolean; benchmark?: BenchmarkName } = { admissionConfigFile: true },
): K3sSettings {
  const benchmark = options.benchmark ?? k3sBenchmark(version);
  const arg = (w: Written): Arg => ({ arg: `${w.flag}=${w.value}`, cis: ids(benchmark, w) });
  const server = serverWrites(config, version, { admissionConfigFile: options.admissionConfigFile });
  const encryptionIds = benchmarkRows(benchmark)
    .filter((r) => r.tests?.items.some((t) => t.flag === '--encryption-provider-config' || t.flag === 'provider'))
    .map((r) => r.id);
  const pkd = benchmarkRows(benchmark)
    .filter((r) => r.tests?.items.some((t) => t.flag === '--protect-kernel-defaults'))
    .map((r) => r.id);
  return {
    benchmark,
    node: {
      protectKernelDefaults: { arg: 'true', cis: pkd.length > 0 ? pkd.join(', ') : 'guide: the kubelet refuses kernel values it would change' },
      kubeletArgs: kubeletWrites(config, version).map(arg),
    },
    server: {
      secretsEncryption: { arg: 'true', cis: encryptionIds.join(', ') || 'guide' },
      apiserverArgs: server.filter((w) => w.key === 'kube-apiserver-arg').map(arg),
      controllerManagerArgs: server.filter((w) => w.key === 'kube-controller-manager-arg').map(arg),
    },
  };
}

/** The range of K3s lines a rendering is valid for. */
export function versionRange(version: K3sVersion): string {
  if (hasPodSecurityPolicy(version)) return 'v1.24 and older';
  return version.minor >= 29 ? 'v1.29 and newer' : 'v1.25 - v1.28';
}

function list(key: string, args: readonly Arg[], indent: string): string[] {
  const width = Math.max(...args.map((a) => scalar(a.arg).length));
  return [`${indent}${key}:`, ...args.map((a) => `${indent}  - ${scalar(a.arg).padEnd(width)}  # CIS ${a.cis}`)];
}

/** The keys the drop-in sets, by role (for finding later files that wipe them). */
export function dropInKeys(role: Role): string[] {
  return role === 'server'
    ? ['protect-kernel-defaults', 'kubelet-arg', 'secrets-encryption', 'kube-apiserver-arg', 'kube-controller-manager-arg']
    : ['protect-kernel-defaults', 'kubelet-arg'];
}

/** A plain scalar written as is (protect-kernel-defaults: true) as YAML reads it back. */
function plainValue(text: string): string | boolean {
  return text === 'true' ? true : text === 'false' ? false : text;
}

/**
 * The mapping renderDropIn's YAML holds (a test holds the two equal for every role, version and
 * configuration): K3s' configuration files are merged without parsing our own drop-in.
 */
export function dropInValues(settings: K3sSettings, role: Role): Record<string, unknown> {
  const s = settings;
  const values: Record<string, unknown> = {
    'protect-kernel-defaults': plainValue(s.node.protectKernelDefaults.arg),
    'kubelet-arg+': s.node.kubeletArgs.map((a) => a.arg),
  };
  if (role === 'server') {
    values['secrets-encryption'] = plainValue(s.server.secretsEncryption.arg);
    values['kube-apiserver-arg+'] = s.server.apiserverArgs.map((a) => a.arg);
    values['kube-controller-manager-arg+'] = s.server.controllerManagerArgs.map((a) => a.arg);
  }
  return values;
}

/** /etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml: list flags with "+", so that other files keep their values. */
export function renderDropIn(settings: K3sSettings, role: Role, version: K3sVersion): string {
  const s = settings;
  const lines = [
    `# K3s flags for a hardened ${role}, K3s ${versionRange(version)}; check ids from kube-bench's ${s.benchmark}.`,
    '# List flags use "key+:" and append to config.yaml and earlier drop-ins; a later file that sets one of',
    '# these keys without "+" replaces them, and k3s-hostprep check names it.',
    `protect-kernel-defaults: ${s.node.protectKernelDefaults.arg}  # CIS ${s.node.protectKernelDefaults.cis}`,
    ...list('kubelet-arg+', s.node.kubeletArgs, ''),
  ];
  if (role === 'server') {
    lines.push(
      `secrets-encryption: ${s.server.secretsEncryption.arg}  # CIS ${s.server.secretsEncryption.cis}`,
      ...list('kube-apiserver-arg+', s.server.apiserverArgs, ''),
      ...list('kube-controller-manager-arg+', s.server.controllerManagerArgs, ''),
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * The hardening guide's provisioning.cattle.io/v1 Cluster reference template for the version's
 * range, from the same settings as the drop-in.
 */
export function renderRancherCluster(config: Config, version: K3sVersion): string {
  const s = k3sSettings(config, version, { admissionConfigFile: false });
  const lines = [
    `# Hardened K3s cluster template for Rancher, K3s ${versionRange(version)} (${hasPodSecurityPolicy(version) ? 'PodSecurityPolicy' : 'Pod Security admission'}).`,
    '# Made from the same settings as the config.yaml.d drop-in k3s-hostprep writes on nodes it manages.',
  ];
  if (config.eventRateLimit) {
    lines.push('# EventRateLimit is left out: it needs an admission configuration file, which this template cannot carry.');
  }
  lines.push('apiVersion: provisioning.cattle.io/v1', 'kind: Cluster', 'metadata:', '  name: ""  # define the cluster name', 'spec:');
  if (!hasPodSecurityPolicy(version)) lines.push('  defaultPodSecurityAdmissionConfigurationTemplateName: rancher-restricted  # CIS 5.2.1');
  lines.push(
    '  enableNetworkPolicy: true  # CIS 5.3.2',
    `  kubernetesVersion: ${scalar(version.patch === null ? '' : version.text)}  # ${version.patch === null ? 'define the K3s version' : 'the K3s version'}`,
    '  rkeConfig:',
    '    machineGlobalConfig:',
    ...list('kube-apiserver-arg', s.server.apiserverArgs, '      '),
    ...list('kube-controller-manager-arg', s.server.controllerManagerArgs, '      '),
    `      secrets-encryption: ${s.server.secretsEncryption.arg}  # CIS ${s.server.secretsEncryption.cis}`,
    '    machineSelectorConfig:',
    '      - config:',
    ...list('kubelet-arg', s.node.kubeletArgs, '          '),
    `          protect-kernel-defaults: ${s.node.protectKernelDefaults.arg}  # CIS ${s.node.protectKernelDefaults.cis}`,
  );
  return lines.join('\n') + '\n';
}
