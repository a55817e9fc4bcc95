/**
 * CIS 3.2.1: the API server needs an audit policy file. The guide's starter policy logs the
 * metadata of every request; the config may replace it with any audit.k8s.io/v1 Policy.
 */
import { CHECKS } from '../k3s/benchmarks/refs.js';
import { pure } from './snapshot.js';
import type { AuditPolicy } from '../config/schema.js';
import { emitYaml } from '../yaml/emit.js';
import { fileControl, type FileSpec } from './managed.js';
import { AUDIT_POLICY_FILE, K3S_SERVER_DIR, newAncestorMode } from '../k3s/paths.js';
import type { Context } from './types.js';

const HEADER = '# API server audit policy (CIS 3.2.1), used through --audit-policy-file.\n';

export function renderAuditPolicy(policy: AuditPolicy): string {
  return HEADER + emitYaml(policy);
}

export function auditFileSpec(ctx: Pick<Context, 'config' | 'snapshot'>): FileSpec {
  return {
    path: AUDIT_POLICY_FILE,
    body: pure(ctx, 'audit policy text', () => renderAuditPolicy(ctx.config.audit.policy)),
    mode: 0o600,
    parent: { path: K3S_SERVER_DIR, mode: 0o700, ancestorMode: newAncestorMode, enforce: false },
  };
}

export const auditPolicy = fileControl({
  id: 'audit-policy',
  checks: CHECKS.auditPolicy,
  title: 'API server audit policy file',
  scored: true,
  roles: ['server'],
  remediation: `Write an audit.k8s.io/v1 Policy to ${AUDIT_POLICY_FILE} (mode 0600) and pass --audit-policy-file to the API server.`,
  path: AUDIT_POLICY_FILE,
  file: auditFileSpec,
});
