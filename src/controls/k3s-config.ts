/**
 * K3s' flags for a hardened node, as a config.yaml.d drop-in (90-k3s-hostprep.yaml, 0600).
 * List flags are written with "key+:" so that config.yaml, the operator's own drop-ins and
 * Rancher's keep their values. Verify merges every file in K3s' order with its "+" rules and
 * judges the effective flags with kube-bench's tests, counting the flags in K3s' unit, which
 * K3s applies last; a later file that sets one of our keys
 * without "+" wipes our values, and the report names it. Rancher-managed nodes get no drop-in.
 */
import { once } from './snapshot.js';
import { benchmarkChecks, EffectiveView } from '../k3s/benchmark.js';
import { K3S_DROPIN_DIR, laterReplacements, mergeK3sConfig, type KnownText } from '../k3s/config-files.js';
import { type K3sSources, k3sSources, k3sVersionOf, rancherManagement } from '../k3s/node.js';
import { dropInKeys, dropInValues, k3sSettings, renderDropIn } from '../k3s/settings.js';
import { applyChanges, planFile, renderManaged, verifyFile, type FileSpec } from './managed.js';
import { K3S_DROPIN_FILE, publicAncestorMode } from '../k3s/paths.js';
import type { Context, Control, ControlPlan, Finding } from './types.js';

export function dropInSpec(ctx: Pick<Context, 'config' | 'role' | 'k3s' | 'snapshot'>): FileSpec {
  const { version } = k3sVersionOf(ctx);
  return {
    path: K3S_DROPIN_FILE,
    body: once(ctx, 'drop-in body', () => renderDropIn(k3sSettings(ctx.config, version), ctx.role, version)),
    mode: 0o600,
    parent: { path: K3S_DROPIN_DIR, mode: 0o755, ancestorMode: publicAncestorMode, enforce: false },
  };
}

/** K3s' configuration sources as read in this run (our own drop-in is taken at its values, not parsed). */
export function k3sSourcesOf(ctx: Pick<Context, 'config' | 'host' | 'role' | 'k3s' | 'snapshot'>): K3sSources {
  return once(ctx, 'k3s sources', () => k3sSources(ctx.host, ctx.role, [ownDropIn(ctx)]));
}

/** Our drop-in as apply writes it, with the values its YAML holds: reading K3s' configuration does not parse it. */
export function ownDropIn(ctx: Pick<Context, 'config' | 'role' | 'k3s' | 'snapshot'>): KnownText {
  const { version } = k3sVersionOf(ctx);
  return {
    text: once(ctx, 'drop-in file', () => renderManaged(dropInSpec(ctx).body)),
    value: () => dropInValues(k3sSettings(ctx.config, version), ctx.role),
  };
}

/** The effective flags judged against the benchmark, and the later files that wipe our keys. */
export function judgeEffective(ctx: Context): Finding[] {
  const { version } = k3sVersionOf(ctx);
  const { files, unit, problems } = k3sSourcesOf(ctx);
  // A file this user may not read (check as non-root) is unreadable, not broken: K3s, as root, reads it.
  const unreadable = problems.filter((p) => /^cannot be read: (EACCES|EPERM)/.test(p.message));
  const findings: Finding[] = problems.map((p) =>
    unreadable.includes(p)
      ? { item: p.path, status: 'error' as const, expected: 'a K3s configuration file that parses', actual: 'unreadable', reason: `${p.path} ${p.message}` }
      : {
          item: p.path,
          status: 'fail' as const,
          expected: 'a K3s configuration file that parses',
          actual: p.message,
          reason: `${p.path} ${p.message}; K3s refuses to start with it, and its flags cannot be judged.`,
        },
  );
  if (unreadable.length > 0) {
    const why = `cannot be judged: ${unreadable.map((p) => p.path).join(', ')} could not be read`;
    for (const check of benchmarkChecks(ctx.config, version, ctx.role)) {
      findings.push({ item: check.item, status: 'error', expected: check.expected, actual: 'unknown (unreadable file)', reason: why, cis: check.cis });
    }
    return findings;
  }
  const view = new EffectiveView(mergeK3sConfig(unit ? [...files, unit] : files));
  const wipes = laterReplacements(files, K3S_DROPIN_FILE, dropInKeys(ctx.role));
  const failedKeys = new Set<string>();
  for (const check of benchmarkChecks(ctx.config, version, ctx.role)) {
    const r = check.judge(view);
    const wipe = wipes.filter((w) => w.key === check.key).pop();
    const why = r.status === 'fail' && wipe ? ` ${wipe.file} sets ${wipe.key} without "+" after ${K3S_DROPIN_FILE} and replaces its values.` : '';
    if (r.status === 'fail') failedKeys.add(check.key);
    findings.push({ item: check.item, status: r.status, expected: check.expected, actual: r.actual, reason: r.reason + why, cis: check.cis });
  }
  for (const w of wipes) {
    findings.push({
      item: `${w.file}: ${w.key}`,
      status: failedKeys.has(w.key) ? 'fail' : 'warn',
      expected: `${w.key}+ (appends), or no ${w.key}`,
      actual: `${w.key} (replaces)`,
      reason: `${w.file} sorts after ${K3S_DROPIN_FILE} and sets ${w.key} without "+": every value k3s-hostprep gives ${w.key} is dropped. Write "${w.key}+:" in ${w.file}.`,
    });
  }
  return findings;
}

export const k3sConfig: Control = {
  id: 'k3s-config',
  title: 'K3s flags for a hardened node (config.yaml.d drop-in), judged on the merged K3s configuration',
  scored: true,
  roles: ['server', 'agent'],
  remediation: `Run k3s-hostprep apply to write ${K3S_DROPIN_FILE}; in files that sort after it, write list flags as "key+:"; restart K3s to take the flags.`,
  // K3s' configuration (watched for every control) and the unit whose ExecStart flags count too.
  watch: [K3S_DROPIN_FILE, '/etc/systemd/system/k3s.service', '/etc/systemd/system/k3s-agent.service'],

  plan(ctx: Context): ControlPlan {
    if (rancherManagement(ctx).managed) return { changes: [], blocked: [] };
    return planFile(ctx.host, dropInSpec(ctx), ctx.force);
  },

  async apply(ctx: Context, plan: ControlPlan) {
    return applyChanges(ctx.host, plan.changes);
  },

  verify(ctx: Context): Finding[] {
    const rancher = rancherManagement(ctx);
    if (rancher.managed) {
      const findings: Finding[] = [{
        item: 'K3s flags',
        status: 'skip',
        expected: 'set by the Rancher cluster spec',
        actual: 'Rancher-managed node',
        reason: `${rancher.why}: Rancher owns K3s' flags; they are the cluster spec's business (k3s-hostprep render rancher-cluster prints the hardened template).`,
      }];
      if (ctx.host.lstat(K3S_DROPIN_FILE) !== null) {
        findings.push({ item: K3S_DROPIN_FILE, status: 'warn', expected: 'absent on a Rancher-managed node', actual: 'present', reason: `${K3S_DROPIN_FILE} competes with Rancher's flags; remove it.` });
      }
      return findings;
    }
    return [verifyFile(ctx.host, dropInSpec(ctx)), ...judgeEffective(ctx)];
  },
};
