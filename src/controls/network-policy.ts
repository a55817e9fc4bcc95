/**
 * policy.yaml in K3s' manifests directory (0600, servers only): NetworkPolicies for the
 * configured namespaces, the DNS allow policy, and allow policies for metrics-server and Traefik
 * unless they are disabled; on K3s v1.24 and older also the guide's PodSecurityPolicies and
 * their RBAC. No policy/v1beta1 object is written for v1.25 and newer.
 */
import { CHECKS, cisOf } from '../k3s/benchmarks/refs.js';
import { once, pure } from './snapshot.js';
import { K3S_COMPONENTS, type K3sComponent } from '../k3s/components.js';
import { mergeK3sConfig } from '../k3s/config-files.js';
import { k3sVersionOf, orderedSources } from '../k3s/node.js';
import { k3sSourcesOf } from './k3s-config.js';
import { renderPolicy } from '../k3s/policy.js';
import { hasPodSecurityPolicy } from '../k3s/version.js';
import { fileControl, type FileSpec } from './managed.js';
import { MANIFESTS_DIR, POLICY_FILE, newAncestorMode } from '../k3s/paths.js';
import type { Context } from './types.js';

/** Components left out: the config's `disable`, and K3s' own `disable` flag in its configuration files and unit. */
export function disabledComponents(ctx: Pick<Context, 'config' | 'host' | 'role' | 'k3s' | 'snapshot'>): Set<K3sComponent> {
  const disabled = new Set<K3sComponent>(ctx.config.disable);
  const merged = mergeK3sConfig(orderedSources(k3sSourcesOf(ctx)));
  for (const item of merged.get('disable')?.items ?? []) {
    for (const name of item.value.split(',').map((s) => s.trim())) {
      if ((K3S_COMPONENTS as readonly string[]).includes(name)) disabled.add(name as K3sComponent);
    }
  }
  return disabled;
}

/**
 * The text is rendered from the configuration, the version and the disabled components alone:
 * those are read from the host every run, and the text for the same ones is kept (pure) rather
 * than emitted again every watch cycle.
 */
function policyBody(ctx: Pick<Context, 'config' | 'host' | 'k3s' | 'role' | 'snapshot'>): string {
  return once(ctx, 'policy text', () => {
    const disabled = disabledComponents(ctx);
    return pure(ctx, `policy text\0${[...disabled].sort().join(',')}`, () => renderPolicy(ctx.config, k3sVersionOf(ctx).version, disabled));
  });
}

export function policyFileSpec(ctx: Pick<Context, 'config' | 'host' | 'k3s' | 'role' | 'snapshot'>): FileSpec {
  return {
    path: POLICY_FILE,
    body: policyBody(ctx),
    mode: 0o600,
    parent: { path: MANIFESTS_DIR, mode: 0o700, ancestorMode: newAncestorMode, enforce: false },
  };
}

export const networkPolicy = fileControl({
  id: 'network-policy',
  checks: CHECKS.networkPolicy,
  title: "Network policies (and PodSecurityPolicies up to v1.24) in K3s' manifests directory",
  scored: true,
  roles: ['server'],
  remediation: `Write ${POLICY_FILE} (mode 0600) with a NetworkPolicy per namespace; K3s applies it at start.`,
  path: POLICY_FILE,
  file: policyFileSpec,
  // Up to v1.24 the same file carries the PodSecurityPolicies (5.2.1).
  cisFor: (ctx) => cisOf(ctx, hasPodSecurityPolicy(k3sVersionOf(ctx).version) ? [...CHECKS.networkPolicy, ...CHECKS.podSecurity] : CHECKS.networkPolicy),
});
