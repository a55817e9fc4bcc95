/**
 * psa.yaml: the API server's AdmissionConfiguration (apiserver.config.k8s.io/v1). On v1.25 and
 * newer it configures PodSecurity to enforce, audit and warn at "restricted"; when EventRateLimit
 * is enabled its configuration is in the same file, because the plugin refuses to start without
 * one. Pure, with a hand-written validator (no published schema covers these kinds).
 */
import { CHECKS, checkIds } from './benchmarks/refs.js';
import { k3sBenchmark } from './benchmarks/index.js';
import { emitYaml } from '../yaml/emit.js';
import type { Config } from '../config/schema.js';
import { atLeast, hasPodSecurityPolicy, type K3sVersion } from './version.js';

export interface AdmissionConfiguration {
  apiVersion: 'apiserver.config.k8s.io/v1';
  kind: 'AdmissionConfiguration';
  plugins: Array<{ name: string; configuration: Record<string, unknown> }>;
}

/** PodSecurityConfiguration is v1 from Kubernetes 1.25. */
export function podSecurityConfigVersion(version: K3sVersion): string {
  return atLeast(version, 25) ? 'pod-security.admission.config.k8s.io/v1' : 'pod-security.admission.config.k8s.io/v1beta1';
}

export function exemptNamespaces(config: Config): string[] {
  return ['kube-system', ...config.podSecurity.exemptNamespaces.filter((n) => n !== 'kube-system')];
}

export function admissionConfiguration(config: Config, version: K3sVersion): AdmissionConfiguration {
  const plugins: AdmissionConfiguration['plugins'] = [];
  if (!hasPodSecurityPolicy(version)) {
    plugins.push({
      name: 'PodSecurity',
      configuration: {
        apiVersion: podSecurityConfigVersion(version),
        kind: 'PodSecurityConfiguration',
        defaults: {
          enforce: 'restricted',
          'enforce-version': 'latest',
          audit: 'restricted',
          'audit-version': 'latest',
          warn: 'restricted',
          'warn-version': 'latest',
        },
        exemptions: { usernames: [], runtimeClasses: [], namespaces: exemptNamespaces(config) },
      },
    });
  }
  if (config.eventRateLimit) {
    plugins.push({
      name: 'EventRateLimit',
      configuration: {
        apiVersion: 'eventratelimit.admission.k8s.io/v1alpha1',
        kind: 'Configuration',
        limits: config.eventRateLimit.limits.map((l) => ({ ...l })),
      },
    });
  }
  return { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AdmissionConfiguration', plugins };
}

export function renderPsa(config: Config, version: K3sVersion): string {
  // The ids of the benchmark kube-bench picks for the line (1.2.10 in k3s-cis-1.24, 1.2.9 from k3s-cis-1.7).
  const erl = checkIds(k3sBenchmark(version), CHECKS.eventRateLimit).join(', ');
  const what = [
    !hasPodSecurityPolicy(version) ? 'Pod Security admission at "restricted" (CIS 5.2)' : null,
    config.eventRateLimit ? `EventRateLimit (CIS ${erl})` : null,
  ]
    .filter(Boolean)
    .join(' and ');
  return `# API server admission configuration: ${what}; used through --admission-control-config-file.\n${emitYaml(admissionConfiguration(config, version))}`;
}
