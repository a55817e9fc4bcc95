/**
 * The directories K3s reads manifests from and writes the audit log to, created before K3s
 * starts with mode 0700 and owned by root (the hardening guide's mkdir -p -m 700). An existing
 * directory with a looser mode is tightened, which mkdir -m never does.
 */
import { CHECKS, cisOf, type CheckRef } from '../k3s/benchmarks/refs.js';
import { applyChanges, planDirectory, verifyDirectory, type DirSpec } from './managed.js';
import { LOGS_DIR, MANIFESTS_DIR, newAncestorMode } from '../k3s/paths.js';
import { changeTarget, type Context, type Control, type ControlPlan, type Finding } from './types.js';

export const DIRECTORIES: ReadonlyArray<DirSpec & { checks?: readonly CheckRef[] }> = [
  { path: MANIFESTS_DIR, mode: 0o700, ancestorMode: newAncestorMode, enforce: true },
  { path: LOGS_DIR, mode: 0o700, ancestorMode: newAncestorMode, enforce: true, checks: CHECKS.auditLogDir },
];

export const directories: Control = {
  id: 'directories',
  title: 'K3s manifests and audit log directories, mode 0700, owned by root',
  scored: true,
  roles: ['server'],
  remediation: `mkdir -p ${MANIFESTS_DIR} ${LOGS_DIR} && chmod 0700 ${MANIFESTS_DIR} ${LOGS_DIR} && chown root:root ${MANIFESTS_DIR} ${LOGS_DIR}`,
  watch: [MANIFESTS_DIR, LOGS_DIR],

  plan(ctx: Context): ControlPlan {
    const plan: ControlPlan = { changes: [], blocked: [] };
    for (const spec of DIRECTORIES) {
      const part = planDirectory(ctx.host, spec);
      for (const change of part.changes) {
        if (!plan.changes.some((c) => c.kind === change.kind && changeTarget(c) === changeTarget(change))) plan.changes.push(change);
      }
      const cis = spec.checks ? cisOf(ctx, spec.checks) : undefined;
      plan.blocked.push(...part.blocked.map((f) => ({ ...f, ...(cis ? { cis } : {}) })));
    }
    return plan;
  },

  async apply(ctx: Context, plan: ControlPlan) {
    return applyChanges(ctx.host, plan.changes);
  },

  verify(ctx: Context): Finding[] {
    return DIRECTORIES.map((spec) => {
      const cis = spec.checks ? cisOf(ctx, spec.checks) : undefined;
      return { ...verifyDirectory(ctx.host, spec), ...(cis ? { cis } : {}) };
    });
  },
};
