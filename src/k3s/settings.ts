/**
 * The K3s flags the hardening guide asks for, made once from the configuration and the K3s
 * version. The config.yaml.d drop-in and the Rancher cluster template are both rendered from
 * these, so they never disagree. Pure.
 */
import type { Config, Role } from '../config/schema.js';
import { yamlString as scalar } from '../yaml/emit.js';
import { AUDIT_LOG_FILE, AUDIT_POLICY_FILE, PSA_FILE } from './paths.js';
import { hasPodSecurityPolicy, type K3sVersion } from './version.js';

/** A flag value with the CIS checks it serves (k3s-cis-1.24 numbering). */
export interface Arg {
  arg: string;
  cis: string;
}

export interface K3sSettings {
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

/** Whether an admission configuration file (psa.yaml) is needed: PodSecurity on v1.25+, or EventRateLimit's configuration. */
export function needsAdmissionConfig(config: Config, version: K3sVersion): boolean {
  return !hasPodSecurityPolicy(version) || config.eventRateLimit !== undefined;
}

export function admissionPlugins(config: Config, version: K3sVersion, options: { eventRateLimit: boolean }): string[] {
  const plugins = ['NodeRestriction'];
  if (hasPodSecurityPolicy(version)) plugins.push('PodSecurityPolicy');
  plugins.push('ServiceAccount');
  if (options.eventRateLimit && config.eventRateLimit !== undefined) plugins.push('EventRateLimit');
  return plugins;
}

/**
 * The settings. `admissionConfigFile`: whether the API server is pointed at psa.yaml (the
 * drop-in does; under Rancher, its own pod security template takes that place and EventRateLimit,
 * which has no configuration there, is left out).
 */
export function k3sSettings(config: Config, version: K3sVersion, options: { admissionConfigFile: boolean } = { admissionConfigFile: true }): K3sSettings {
  const withAdmissionFile = options.admissionConfigFile && needsAdmissionConfig(config, version);
  const plugins = admissionPlugins(config, version, { eventRateLimit: withAdmissionFile });
  const pluginCis = ['1.2.16', '1.2.14', ...(plugins.includes('PodSecurityPolicy') ? ['1.2.13'] : []), ...(plugins.includes('EventRateLimit') ? ['1.2.10'] : [])].join(', ');
  const apiserverArgs: Arg[] = [
    { arg: `enable-admission-plugins=${plugins.join(',')}`, cis: pluginCis },
    { arg: `audit-policy-file=${AUDIT_POLICY_FILE}`, cis: '3.2.1' },
    { arg: `audit-log-path=${AUDIT_LOG_FILE}`, cis: '1.2.19' },
    { arg: `audit-log-maxage=${config.audit.logMaxAge}`, cis: '1.2.20' },
    { arg: `audit-log-maxbackup=${config.audit.logMaxBackup}`, cis: '1.2.21' },
    { arg: `audit-log-maxsize=${config.audit.logMaxSize}`, cis: '1.2.22' },
    { arg: 'request-timeout=300s', cis: '1.2.23' },
    { arg: 'service-account-lookup=true', cis: '1.2.24' },
  ];
  if (withAdmissionFile) apiserverArgs.push({ arg: `admission-control-config-file=${PSA_FILE}`, cis: plugins.includes('EventRateLimit') ? '5.2.1, 1.2.10' : '5.2.1' });
  return {
    node: {
      protectKernelDefaults: { arg: 'true', cis: '4.2.6' },
      kubeletArgs: [{ arg: 'make-iptables-util-chains=true', cis: '4.2.7' }],
    },
    server: {
      secretsEncryption: { arg: 'true', cis: '1.2.30, 1.2.31' },
      apiserverArgs,
      controllerManagerArgs: [{ arg: `terminated-pod-gc-threshold=${config.terminatedPodGcThreshold}`, cis: '1.3.1' }],
    },
  };
}

/** The range of K3s lines a rendering is valid for. */
export function versionRange(version: K3sVersion): string {
  return hasPodSecurityPolicy(version) ? 'v1.24 and older' : 'v1.25 and newer';
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
    `# K3s flags for a hardened ${role} (CIS Kubernetes Benchmark, k3s-cis-1.24 numbering), K3s ${versionRange(version)}.`,
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
  if (config.eventRateLimit !== undefined) {
    lines.push('# EventRateLimit is left out: it needs an admission configuration file, which this template cannot carry.');
  }
  lines.push(
    'apiVersion: provisioning.cattle.io/v1',
    'kind: Cluster',
    'metadata:',
    '  name: ""  # define the cluster name',
    'spec:',
  );
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
