/**
 * psa.yaml (0600, servers): the API server's admission configuration. Pod Security admission at
 * "restricted" on K3s v1.25 and newer, exempting kube-system and the configured namespaces, and
 * EventRateLimit's configuration whenever that plugin is enabled (on any version). Not written on
 * Rancher-managed nodes, whose pod security template is Rancher's.
 */
import { CHECKS, cisOf } from '../k3s/benchmarks/refs.js';
import { pure } from './snapshot.js';
import { k3sVersionOf, rancherManagement } from '../k3s/node.js';
import { renderPsa } from '../k3s/psa.js';
import { needsAdmissionConfig } from '../k3s/settings.js';
import { fileControl, type FileSpec } from './managed.js';
import { K3S_SERVER_DIR, PSA_FILE, newAncestorMode } from '../k3s/paths.js';
import type { Context } from './types.js';

export function psaFileSpec(ctx: Pick<Context, 'config' | 'k3s' | 'snapshot'>): FileSpec {
  return {
    path: PSA_FILE,
    body: pure(ctx, 'psa text', () => renderPsa(ctx.config, k3sVersionOf(ctx).version)),
    mode: 0o600,
    parent: { path: K3S_SERVER_DIR, mode: 0o700, ancestorMode: newAncestorMode, enforce: false },
  };
}

/** Why psa.yaml is not written here, or null when it is. */
function notHere(ctx: Context): string | null {
  const rancher = rancherManagement(ctx);
  if (rancher.managed) return `${rancher.why}: Rancher's pod security admission template is the cluster spec's business`;
  const { version } = k3sVersionOf(ctx);
  if (!needsAdmissionConfig(ctx.config, version))
    return `K3s ${version.text} predates Pod Security admission (v1.25); PodSecurityPolicies in policy.yaml serve CIS 5.2, and EventRateLimit is not configured`;
  return null;
}

export const podSecurity = fileControl({
  id: 'pod-security',
  checks: CHECKS.podSecurity,
  title: 'Pod Security admission at restricted (v1.25+) and EventRateLimit configuration',
  scored: true,
  roles: ['server'],
  remediation: `Write ${PSA_FILE} (mode 0600) and pass --admission-control-config-file=${PSA_FILE} to the API server (the K3s drop-in does).`,
  path: PSA_FILE,
  file: psaFileSpec,
  notHere,
  cisFor: (ctx) => cisOf(ctx, ctx.config.eventRateLimit ? [...CHECKS.podSecurity, ...CHECKS.eventRateLimit] : CHECKS.podSecurity),
});
