/**
 * What the kernel will hold after the next boot. systemd-sysctl (and sysctl --system) read
 * every sysctl.d file in name order and the last assignment wins, so a file that sorts after
 * 90-kubelet.conf can undo it at the next reboot while today's live values still look right.
 */
import { SYSCTL_CONF, SYSCTL_DIRS, resolveSysctl, selectConfFiles, type ConfFile } from '../sysctl/resolve.js';
import { describeError } from '../errors.js';
import type { Host } from '../host/host.js';
import { SYSCTL_FILE, desiredSysctls, sameSysctlValue } from './kubelet-sysctls.js';
import type { ApplyOutcome, Context, Control, Finding } from './types.js';
import { fail, pass } from './types.js';

/** Reads the files systemd-sysctl would read; a symlink to /dev/null masks a name. */
export function readBootSysctlFiles(host: Host): ConfFile[] {
  const paths = [...selectConfFiles((dir) => host.readDir(dir)), SYSCTL_CONF];
  const files: ConfFile[] = [];
  for (const p of paths) {
    const stat = host.lstat(p);
    if (stat === null) continue;
    if (stat.isSymbolicLink() && host.readLink(p) === '/dev/null') {
      files.push({ path: p, text: null });
      continue;
    }
    const text = host.readText(p);
    if (text !== null) files.push({ path: p, text });
  }
  return files;
}

export const kernelPersistence: Control = {
  id: 'kernel-parameters-boot',
  cis: '4.2.6',
  title: 'Kernel parameters after the next boot (sysctl.d order)',
  scored: true,
  roles: ['server', 'agent'],
  remediation: `Run apply to write ${SYSCTL_FILE}; remove or correct any later sysctl.d assignment the report names (other people's files are not edited).`,
  watch: [...SYSCTL_DIRS, SYSCTL_CONF],

  plan() {
    // Other people's files are not edited: this control only reports.
    return { changes: [], blocked: [] };
  },

  async apply(): Promise<ApplyOutcome> {
    return { done: [], hostErrors: [], backups: [] };
  },

  verify(ctx: Context): Finding[] {
    let files: ConfFile[];
    try {
      files = readBootSysctlFiles(ctx.host);
    } catch (error) {
      return [{ item: 'sysctl.d', status: 'error', expected: 'readable', actual: 'unreadable', reason: describeError(error) }];
    }
    const resolution = resolveSysctl(files);
    return desiredSysctls(ctx.config.sysctl).map((desired): Finding => {
      const { key, value: expected } = desired;
      const consequence = desired.kubelet ? 'the kubelet will refuse to start' : 'the configured value is lost';
      const winner = resolution.winner(key);
      const item = `${key} at boot`;
      if (!winner) return fail(item, expected, 'not set by any sysctl.d file', `no sysctl.d file sets ${key}: after a reboot the kernel default applies and ${consequence}.`);
      const where = `${winner.file}:${winner.line}`;
      const actual = `${winner.value} (${where})`;
      if (sameSysctlValue(desired, winner.value)) return pass(item, expected, actual);
      const ours = resolution.history(key).find((a) => a.file === SYSCTL_FILE);
      const overrides = ours ? ` after ${SYSCTL_FILE} sets ${ours.value}` : '';
      return fail(item, expected, actual, `${where} sets ${key}=${winner.value}${overrides}; it wins at the next boot and ${consequence}.`);
    });
  },
};
