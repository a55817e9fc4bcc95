/**
 * K3s' flags for a hardened node, as a config.yaml.d drop-in (90-k3s-hostprep.yaml, 0600).
 * List flags are written with "key+:" so that config.yaml, the operator's own drop-ins and
 * Rancher's keep their values. Verify merges every file in K3s' order with its "+" rules and
 * judges the effective flags with kube-bench's tests, counting the flags in K3s' unit, which
 * K3s applies last; a later file that sets one of our keys
 * without "+" wipes our values, and the report names it. Rancher-managed nodes get no drop-in.
 */
import { once, pure } from './snapshot.js';
import { K3S_CONFIG_FILE, K3S_DROPIN_DIR, laterReplacements, mergeK3sConfig, type KnownText, type MergedConfig } from '../k3s/config-files.js';
import { admissionConfiguration } from '../k3s/psa.js';
import { validateAdmissionConfiguration } from '../k3s/admission.js';
import { psaFileSpec } from './pod-security.js';
import { atLeast } from '../k3s/version.js';
import { parse as parseYaml } from 'yaml';
import { type K3sSources, k3sSources, k3sVersionOf, orderedSources, rancherManagement } from '../k3s/node.js';
import { dropInKeys, dropInValues, k3sSettings, renderDropIn } from '../k3s/settings.js';
import { applyChanges, planFile, renderManaged, verifyFile, type FileSpec } from './managed.js';
import { K3S_DROPIN_FILE, PSA_FILE, publicAncestorMode } from '../k3s/paths.js';
import type { Context, Control, ControlPlan, Finding } from './types.js';

export function dropInSpec(ctx: Pick<Context, 'config' | 'role' | 'k3s' | 'snapshot'>): FileSpec {
  const { version } = k3sVersionOf(ctx);
  return {
    path: K3S_DROPIN_FILE,
    body: pure(ctx, 'drop-in body', () => renderDropIn(k3sSettings(ctx.config, version), ctx.role, version)),
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
    text: pure(ctx, 'drop-in file', () => renderManaged(dropInSpec(ctx).body)),
    value: () => dropInValues(k3sSettings(ctx.config, version), ctx.role),
  };
}

/** The effective flags judged against the benchmark, and the later files that wipe our keys. */
export function judgeEffective(ctx: Context): Finding[] {
  const sources = k3sSourcesOf(ctx);
  const { files, problems } = sources;
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
  if (unreadable.length > 0) return findings;
  const merged = mergeK3sConfig(orderedSources(sources));
  if (sources.configFile.path !== K3S_CONFIG_FILE) {
    findings.push({
      item: 'K3s configuration file',
      status: 'fail',
      expected: `${K3S_CONFIG_FILE} and ${K3S_DROPIN_DIR}`,
      actual: `${sources.configFile.path} (${sources.configFile.from})`,
      reason: `K3s reads ${sources.configFile.path} and ${sources.configFile.path}.d (${sources.configFile.from}), not ${K3S_DROPIN_DIR}: ${K3S_DROPIN_FILE} is ignored. Remove the override, or move its settings into ${K3S_CONFIG_FILE}.`,
    });
  }
  const wipes = laterReplacements(files, K3S_DROPIN_FILE, dropInKeys(ctx.role));
  if (ctx.role === 'server') findings.push(...refusedStart(ctx, merged));
  for (const w of wipes) {
    findings.push({
      item: `${w.file}: ${w.key}`,
      // The hardening k3s-hostprep wrote is lost (kube-bench's rows then judge what is left, naming
      // the file): a FAIL even where the lost flags serve only unscored checks, as the drop-in no
      // longer takes effect.
      status: 'fail',
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
      // The node is still judged on what K3s will run (the kube-bench control's rows, and here
      // whether K3s will start); only the fix moves to the cluster spec.
      const findings: Finding[] = [
        {
          item: 'K3s flags',
          status: 'pass',
          expected: 'set by the Rancher cluster spec, no k3s-hostprep drop-in',
          actual: 'Rancher-managed node',
          reason: `${rancher.why}: Rancher owns K3s' flags; they are judged like any node's, and fixed in the cluster spec (rkeConfig machineGlobalConfig / machineSelectorConfig; k3s-hostprep render rancher-cluster prints the hardened template), the cluster spec's business.`,
        },
      ];
      if (ctx.host.lstat(K3S_DROPIN_FILE) !== null) {
        findings.push({
          item: K3S_DROPIN_FILE,
          status: 'warn',
          expected: 'absent on a Rancher-managed node',
          actual: 'present',
          reason: `${K3S_DROPIN_FILE} competes with Rancher's flags; remove it.`,
        });
      }
      return [...findings, ...judgeEffective(ctx)];
    }
    return [verifyFile(ctx.host, dropInSpec(ctx)), ...judgeEffective(ctx)];
  },
};

function argValues(merged: MergedConfig, key: string, flag: string): Array<{ value: string; file: string }> {
  return (merged.get(key)?.items ?? [])
    .map((i) => {
      const text = i.value.replace(/^--/, '');
      const eq = text.indexOf('=');
      return { name: (eq < 0 ? text : text.slice(0, eq)).replace(/[+-]+$/, ''), value: eq < 0 ? 'true' : text.slice(eq + 1), file: i.file };
    })
    .filter((a) => a.name === flag);
}

/** Admission plugins that refuse to start without their configuration in the admission control config file. */
const NEEDS_CONFIG = ['EventRateLimit', 'ImagePolicyWebhook'];

/**
 * What stops K3s' API server at start: an admission plugin without the configuration it needs,
 * PodSecurityPolicy on v1.25 and newer, a flag naming a file that does not exist or does not parse.
 */
export function refusedStart(ctx: Context, merged: MergedConfig): Finding[] {
  const { version } = k3sVersionOf(ctx);
  const out: Finding[] = [];
  const enabled = argValues(merged, 'kube-apiserver-arg', 'enable-admission-plugins').flatMap((a) =>
    a.value.split(',').map((p) => ({ plugin: p.trim(), file: a.file })),
  );
  if (atLeast(version, 25)) {
    for (const e of enabled.filter((e) => e.plugin === 'PodSecurityPolicy')) {
      out.push({
        item: 'kube-apiserver PodSecurityPolicy',
        status: 'fail',
        expected: 'not enabled on Kubernetes 1.25 and newer',
        actual: `enabled in ${e.file}`,
        reason: `${e.file} enables PodSecurityPolicy, which Kubernetes ${version.text} no longer has: the API server refuses to start. Remove it (Pod Security admission replaces it).`,
      });
    }
  }
  const configFlag = argValues(merged, 'kube-apiserver-arg', 'admission-control-config-file').pop();
  let admission: unknown = null;
  let admissionProblem: string | null = null;
  /** What validateAdmissionConfiguration says of psa.yaml as apply writes it, made once per configuration and version. */
  let knownProblems: string[] | null = null;
  if (configFlag) {
    if (configFlag.value === PSA_FILE && ctx.host.lstat(PSA_FILE) === null) admissionProblem = `${PSA_FILE} does not exist`;
    else {
      try {
        const text = ctx.host.readText(configFlag.value);
        if (text === null) admissionProblem = `${configFlag.value} does not exist`;
        // psa.yaml as apply writes it is known without parsing it (the boot path loads no YAML library).
        else if (configFlag.value === PSA_FILE && text === renderManaged(psaFileSpec(ctx).body)) {
          const known = pure(ctx, 'admission configuration as written', () => {
            const written = structuredClone(admissionConfiguration(ctx.config, version));
            return { written, problems: validateAdmissionConfiguration(written) };
          });
          admission = known.written;
          knownProblems = known.problems;
        } else admission = parseYaml(text.replace(/^#.*\n/gm, ''));
      } catch (error) {
        admissionProblem = `${configFlag.value} cannot be read or parsed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      }
    }
    if (admissionProblem === null) {
      const problems = knownProblems ?? validateAdmissionConfiguration(admission);
      if (problems.length > 0) admissionProblem = `${configFlag.value}: ${problems.slice(0, 3).join('; ')}`;
    }
    if (admissionProblem !== null) {
      out.push({
        item: 'kube-apiserver --admission-control-config-file',
        status: 'fail',
        expected: 'a file that exists and parses',
        actual: admissionProblem,
        reason: `${admissionProblem} (named in ${configFlag.file}): the API server refuses to start.`,
      });
    }
  }
  const configured = new Set<string>(
    admission !== null && typeof admission === 'object' && Array.isArray((admission as { plugins?: unknown }).plugins)
      ? (admission as { plugins: Array<{ name?: unknown }> }).plugins.map((p) => String(p.name))
      : [],
  );
  for (const e of enabled.filter((e) => NEEDS_CONFIG.includes(e.plugin))) {
    if (configured.has(e.plugin)) continue;
    out.push({
      item: `kube-apiserver ${e.plugin}`,
      status: 'fail',
      expected: `${e.plugin}'s configuration in the admission control config file`,
      actual: configFlag ? `not in ${configFlag.value}` : 'no --admission-control-config-file',
      reason: `${e.file} enables ${e.plugin}, but ${configFlag ? configFlag.value : 'no admission control config file'} gives it no configuration: the API server refuses to start ("limits: must not be empty" for EventRateLimit).${e.plugin === 'EventRateLimit' ? ' Keep eventRateLimit in the k3s-hostprep configuration (psa.yaml then carries it) or remove the plugin.' : ''}`,
    });
  }
  for (const flag of [
    'audit-policy-file',
    'encryption-provider-config',
    'egress-selector-config-file',
    'authentication-config',
    'authorization-config',
    'tracing-config-file',
  ]) {
    for (const a of argValues(merged, 'kube-apiserver-arg', flag)) {
      if (a.value === '' || ctx.host.stat(a.value) !== null) continue;
      out.push({
        item: `kube-apiserver --${flag}`,
        status: 'fail',
        expected: 'an existing file',
        actual: `${a.value} does not exist`,
        reason: `${a.file} sets --${flag}=${a.value}, which does not exist: the API server refuses to start.`,
      });
    }
  }
  return out;
}
