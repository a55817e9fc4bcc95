/**
 * CIS 4.2.6 (protect-kernel-defaults): the kubelet refuses to start when a live kernel value
 * differs from what it expects. Writes 90-kubelet.conf, applies it with sysctl -p only when a
 * live value differs, and verifies the live values the way the kubelet reads them.
 */
import { describeError } from '../errors.js';
import { renderSysctlConf } from '../sysctl/conf.js';
import { sysctlPath } from '../host/host.js';
import { applyChanges, planFile, verifyFile, type FileSpec } from './managed.js';
import { publicAncestorMode } from './paths.js';
import { KUBELET_SYSCTLS, SYSCTL_FILE, kubeletMessage, parseKernelInt } from './kubelet-sysctls.js';
import type { ApplyOutcome, Change, Context, Control, ControlPlan, Finding } from './types.js';
import { fail, pass } from './types.js';

export function renderKubeletSysctl(): string {
  return renderSysctlConf(
    ['Kernel parameters the kubelet checks under --protect-kernel-defaults (CIS 4.2.6).', 'The hardening guide lists the first four; the kubelet checks all six.'],
    KUBELET_SYSCTLS,
  );
}

export function sysctlFileSpec(): FileSpec {
  return {
    path: SYSCTL_FILE,
    body: renderKubeletSysctl(),
    mode: 0o600,
    parent: { path: '/etc/sysctl.d', mode: 0o755, ancestorMode: publicAncestorMode, enforce: false },
  };
}

type LiveRead = { key: string; expected: number; raw: string | null; error?: string };

function readLive(ctx: Context): LiveRead[] {
  return KUBELET_SYSCTLS.map(([key, expected]) => {
    try {
      return { key, expected, raw: ctx.host.readSysctl(key).trim() };
    } catch (error) {
      return { key, expected, raw: null, error: `cannot read ${sysctlPath(key)}: ${describeError(error)}` };
    }
  });
}

function judgeLive(read: LiveRead): Finding {
  const item = read.key;
  const expected = String(read.expected);
  if (read.raw === null) return { item, status: 'error', expected, actual: 'unreadable', reason: `${read.error}; the kubelet cannot start without it` };
  const value = parseKernelInt(read.raw);
  if (value === read.expected) return pass(item, expected, read.raw);
  return fail(item, expected, read.raw, kubeletMessage(read.key, read.expected, read.raw));
}

export const kernelParameters: Control = {
  id: 'kernel-parameters',
  cis: '4.2.6',
  title: 'Kernel parameters the kubelet checks under protect-kernel-defaults',
  scored: true,
  roles: ['server', 'agent'],
  remediation: `Write ${SYSCTL_FILE} with the six values and run: sysctl -p ${SYSCTL_FILE}`,

  plan(ctx: Context): ControlPlan {
    const file = planFile(ctx.host, sysctlFileSpec(), ctx.force);
    if (!ctx.host.live || file.blocked.length > 0) return file;
    const changes: Change[] = [...file.changes];
    const blocked = [...file.blocked];
    for (const read of readLive(ctx)) {
      if (read.raw === null) {
        blocked.push({ item: read.key, status: 'error', expected: String(read.expected), actual: 'unreadable', reason: read.error ?? '' });
      } else if (parseKernelInt(read.raw) !== read.expected) {
        changes.push({ kind: 'sysctl', key: read.key, from: read.raw, to: String(read.expected) });
      }
    }
    return { changes, blocked };
  },

  async apply(ctx: Context, plan: ControlPlan): Promise<ApplyOutcome> {
    const outcome = applyChanges(ctx.host, plan.changes);
    const sysctls = plan.changes.filter((c) => c.kind === 'sysctl');
    if (sysctls.length === 0 || outcome.hostErrors.length > 0) return outcome;
    const result = await ctx.host.runSysctl(['-p', SYSCTL_FILE]);
    if (result.exitCode !== 0) {
      const detail = (result.stderr || result.stdout).trim().split('\n').filter(Boolean).join('; ');
      outcome.hostErrors.push(`${result.command} exited ${result.exitCode}${detail ? `: ${detail}` : ''}`);
      return outcome;
    }
    // Read back, as systemd-sysctl does: a value the kernel did not take is a failure of the host.
    for (const read of readLive(ctx)) {
      const change = sysctls.find((c) => c.kind === 'sysctl' && c.key === read.key);
      if (!change) continue;
      if (read.raw !== null && parseKernelInt(read.raw) === read.expected) outcome.done.push(change);
      else outcome.hostErrors.push(`${read.key}: the kernel kept ${read.raw ?? 'an unreadable value'} after ${result.command}`);
    }
    return outcome;
  },

  verify(ctx: Context): Finding[] {
    const findings: Finding[] = [verifyFile(ctx.host, sysctlFileSpec())];
    if (!ctx.host.live) {
      for (const [key, expected] of KUBELET_SYSCTLS) {
        findings.push({ item: key, status: 'skip', expected: String(expected), actual: 'not read', reason: 'offline root (--root): the running kernel is not this system\'s' });
      }
      return findings;
    }
    return [...findings, ...readLive(ctx).map(judgeLive)];
  },
};

