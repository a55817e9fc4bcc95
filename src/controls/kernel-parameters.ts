/**
 * CIS 4.2.6 (protect-kernel-defaults): the kubelet refuses to start when a live kernel value
 * differs from what it expects. Writes 90-kubelet.conf, applies it with sysctl -p only when a
 * live value differs, and verifies the live values the way the kubelet reads them.
 */
import { CHECKS } from '../k3s/benchmarks/refs.js';
import { describeError } from '../errors.js';
import { renderSysctlConf } from '../sysctl/conf.js';
import { sysctlPath } from '../host/host.js';
import { applyChanges, ownership, planFile, verifyFile, type FileSpec } from './managed.js';
import { parseSysctlConf } from '../sysctl/conf.js';
import { publicAncestorMode } from '../k3s/paths.js';
import type { Config } from '../config/schema.js';
import { KUBELET_SYSCTLS, SYSCTL_FILE, desiredSysctls, kubeletMessage, sameSysctlValue, type DesiredSysctl } from '../k3s/kubelet-sysctls.js';
import type { ApplyOutcome, Change, Context, Control, ControlPlan, Finding } from './types.js';
import { fail, pass } from './types.js';

export function renderKubeletSysctl(extra: Readonly<Record<string, string>> = {}): string {
  const desired = desiredSysctls(extra);
  const six = renderSysctlConf(
    [
      'Kernel parameters the kubelet checks under --protect-kernel-defaults (CIS 4.2.6).',
      'The hardening guide lists the first four; the kubelet checks all six.',
    ],
    KUBELET_SYSCTLS,
  );
  const more = desired.filter((d) => !d.kubelet);
  if (more.length === 0) return six;
  return (
    six +
    renderSysctlConf(
      ['', 'Extra parameters from the k3s-hostprep configuration (sysctl:).'],
      more.map((d) => [d.key, d.value] as const),
    )
  );
}

export function sysctlFileSpec(config: Pick<Config, 'sysctl'>): FileSpec {
  return {
    path: SYSCTL_FILE,
    body: renderKubeletSysctl(config.sysctl),
    mode: 0o600,
    parent: { path: '/etc/sysctl.d', mode: 0o755, ancestorMode: publicAncestorMode, enforce: false },
  };
}

/**
 * The operator's own 90-kubelet.conf: a file at our path that k3s-hostprep did not write (or
 * that was edited since), owned by root in a directory only root can change. Apply leaves it
 * alone without --force. When it sets every value required, it does our file's job at boot
 * (systemd-sysctl applies it): the file is a warning, and the live values are still converged,
 * key by key. Otherwise it names what is wrong and the fix. Null: not such a file.
 */
function operatorFile(ctx: Context): { finding: Finding; right: boolean } | null {
  let text: string | null;
  try {
    const stat = ctx.host.lstat(SYSCTL_FILE);
    if (!stat?.isFile() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) return null;
    text = ctx.host.readText(SYSCTL_FILE);
  } catch {
    return null;
  }
  if (text === null || ownership(text) === 'ours') return null;
  const set = new Map(parseSysctlConf(text, SYSCTL_FILE).map((a) => [a.key, a.value]));
  const wrong = desiredSysctls(ctx.config.sysctl)
    .filter((d) => !set.has(d.key) || !sameSysctlValue(d, set.get(d.key)!))
    .map((d) => (set.has(d.key) ? `${d.key}=${set.get(d.key)} (expected ${d.value})` : `no ${d.key} (expected ${d.value})`));
  const whose = ownership(text) === 'edited' ? 'was edited since k3s-hostprep wrote it' : 'was not written by k3s-hostprep';
  const expected = "every required value (k3s-hostprep leaves the operator's file alone)";
  if (wrong.length === 0) {
    return {
      right: true,
      finding: {
        item: SYSCTL_FILE,
        status: 'warn',
        expected,
        actual: "the operator's file, every value right",
        reason: `${SYSCTL_FILE} ${whose}; it sets every value required, so it is left as it is and the live values are set key by key.`,
        fix: `nothing is needed; to let k3s-hostprep own the file, run apply --force (a backup is kept beside it)`,
      },
    };
  }
  return {
    right: false,
    finding: {
      ...fail(
        SYSCTL_FILE,
        expected,
        `the operator's file: ${wrong.join(', ')}`,
        `${SYSCTL_FILE} ${whose}, and not every value in it is right: ${wrong.join(', ')}; it is left alone and the live values are not changed: correct it, or run apply --force to replace it (a backup is kept).`,
      ),
      fix: `correct those lines in ${SYSCTL_FILE} (the kubelet checks the values at every start, and systemd-sysctl applies this file at boot), or run apply --force to replace it with k3s-hostprep's (a backup is kept beside it)`,
    },
  };
}

type LiveRead = { desired: DesiredSysctl; raw: string | null; error?: string };

function readLive(ctx: Context): LiveRead[] {
  return desiredSysctls(ctx.config.sysctl).map((desired) => {
    try {
      return { desired, raw: ctx.host.readSysctl(desired.key).trim() };
    } catch (error) {
      return { desired, raw: null, error: `cannot read ${sysctlPath(desired.key)}: ${describeError(error)}` };
    }
  });
}

function judgeLive({ desired, raw, error }: LiveRead): Finding {
  const item = desired.key;
  if (raw === null) {
    return {
      item,
      status: 'error',
      expected: desired.value,
      actual: 'unreadable',
      reason: `${error}${desired.kubelet ? '; the kubelet cannot start without it' : ''}`,
    };
  }
  if (sameSysctlValue(desired, raw)) return pass(item, desired.value, raw);
  const reason = desired.kubelet
    ? kubeletMessage(desired.key, Number(desired.value), raw)
    : `${desired.key} is ${raw}, the configuration asks for ${desired.value}`;
  return fail(item, desired.value, raw, reason);
}

/**
 * After a failed `sysctl -p`, puts back the file as it was before this run (or removes the one
 * this run created): a file the kernel rejected must not be applied again at every boot.
 */
function restorePrevious(ctx: Context, plan: ControlPlan): string {
  const change = plan.changes.find((c) => c.kind === 'file' && c.path === SYSCTL_FILE);
  if (change?.kind !== 'file') return '';
  try {
    if (change.before === null) ctx.host.removeFile(SYSCTL_FILE);
    else ctx.host.writeFileAtomic(SYSCTL_FILE, change.before, { mode: change.mode, uid: 0, gid: 0 });
    return `; ${SYSCTL_FILE} was put back as it was before this run`;
  } catch (error) {
    return `; ${SYSCTL_FILE} could not be put back as it was: ${describeError(error)}`;
  }
}

export const kernelParameters: Control = {
  id: 'kernel-parameters',
  checks: CHECKS.protectKernelDefaults,
  title: 'Kernel parameters the kubelet checks under protect-kernel-defaults',
  scored: true,
  roles: ['server', 'agent'],
  remediation: `Write ${SYSCTL_FILE} with the six values and run: sysctl -p ${SYSCTL_FILE}`,
  watch: [SYSCTL_FILE],

  plan(ctx: Context): ControlPlan {
    let file = planFile(ctx.host, sysctlFileSpec(ctx.config), ctx.force);
    const operator = file.blocked.length > 0 && !ctx.force ? operatorFile(ctx) : null;
    if (operator !== null) file = operator.right ? { changes: [], blocked: [] } : { changes: [], blocked: [operator.finding] };
    if (!ctx.host.live || file.blocked.length > 0) return file;
    const changes: Change[] = [...file.changes];
    const blocked = [...file.blocked];
    for (const read of readLive(ctx)) {
      if (read.raw === null) blocked.push(judgeLive(read));
      else if (!sameSysctlValue(read.desired, read.raw)) {
        const unwritable = ctx.host.sysctlUnwritable(read.desired.key);
        if (unwritable)
          blocked.push({
            item: read.desired.key,
            status: 'error',
            expected: read.desired.value,
            actual: read.raw,
            reason: `cannot change ${read.desired.key}: ${unwritable}`,
          });
        else changes.push({ kind: 'sysctl', key: read.desired.key, from: read.raw, to: read.desired.value });
      }
    }
    // A kernel that cannot hold the six (no such key, read-only /proc/sys) is reported before
    // anything is written: the file would change nothing, and the old one stays as it was.
    if (blocked.some((b) => b.status === 'error' && KUBELET_SYSCTLS.some(([k]) => k === b.item))) return { changes: [], blocked };
    return { changes, blocked };
  },

  async apply(ctx: Context, plan: ControlPlan): Promise<ApplyOutcome> {
    const outcome = applyChanges(ctx.host, plan.changes);
    const sysctls = plan.changes.filter((c) => c.kind === 'sysctl');
    if (sysctls.length === 0 || outcome.hostErrors.length > 0) return outcome;
    // Our file is applied whole; the operator's, left as it is, is not run: only our keys are written.
    const theirs = !plan.changes.some((c) => c.kind === 'file') && operatorFile(ctx)?.right === true;
    const result = await ctx.host.runSysctl(theirs ? ['-w', ...sysctls.map((c) => `${c.key}=${c.to}`)] : ['-p', SYSCTL_FILE]);
    if (result.exitCode !== 0) {
      const detail = result.ended === 'not-started' ? '' : (result.stderr || result.stdout).trim().split('\n').filter(Boolean).join('; ');
      outcome.hostErrors.push(`${result.command} ${result.why ?? `exited ${result.exitCode}`}${detail ? `: ${detail}` : ''}${restorePrevious(ctx, plan)}`);
      return outcome;
    }
    // Read back, as systemd-sysctl does: a value the kernel did not take is a failure of the host.
    for (const read of readLive(ctx)) {
      const change = sysctls.find((c) => c.kind === 'sysctl' && c.key === read.desired.key);
      if (!change) continue;
      if (read.raw !== null && sameSysctlValue(read.desired, read.raw)) outcome.done.push(change);
      else outcome.hostErrors.push(`${read.desired.key}: the kernel kept ${read.raw ?? 'an unreadable value'} after ${result.command}`);
    }
    return outcome;
  },

  verify(ctx: Context): Finding[] {
    let file = verifyFile(ctx.host, sysctlFileSpec(ctx.config));
    if (file.status === 'fail') file = operatorFile(ctx)?.finding ?? file;
    const findings: Finding[] = [file];
    if (!ctx.host.live) {
      for (const { key, value } of desiredSysctls(ctx.config.sysctl)) {
        findings.push({
          item: key,
          status: 'skip',
          expected: value,
          actual: 'not read',
          reason: "offline root (--root): the running kernel is not this system's",
        });
      }
      return findings;
    }
    return [...findings, ...readLive(ctx).map(judgeLive)];
  },
};
