/**
 * What the kernel will hold after the next boot. systemd-sysctl (and sysctl --system) read
 * every sysctl.d file in name order and the last assignment wins, so a file that sorts after
 * 90-kubelet.conf can undo it at the next reboot while today's live values still look right.
 */
import { CHECKS } from '../k3s/benchmarks/refs.js';
import { SYSCTL_CONF, SYSCTL_DIRS, resolveSysctl, selectConfFiles, type ConfFile } from '../sysctl/resolve.js';
import { describeError } from '../errors.js';
import type { Host } from '../host/host.js';
import { SYSCTL_FILE, desiredSysctls, sameSysctlValue } from '../k3s/kubelet-sysctls.js';
import type { ApplyOutcome, Context, Control, Finding } from './types.js';
import { fail, pass } from './types.js';

/** Reads the files systemd-sysctl would read; a symlink to /dev/null masks a name. Throws on the first unreadable file. */
export function readBootSysctlFiles(host: Host): ConfFile[] {
  const { files, unreadable } = readBootSysctlFilesPartly(host);
  if (unreadable.length > 0) throw new Error(unreadable[0]);
  return files;
}

/** The files that could be read, and a message for each one that could not (e.g. a 0600 file read by a non-root user). */
export function readBootSysctlFilesPartly(host: Host): { files: ConfFile[]; unreadable: string[] } {
  const paths = [...selectConfFiles((dir) => host.readDir(dir)), SYSCTL_CONF];
  const files: ConfFile[] = [];
  const unreadable: string[] = [];
  for (const p of paths) {
    try {
      const stat = host.lstat(p);
      if (stat === null) continue;
      if (stat.isSymbolicLink() && host.readLink(p) === '/dev/null') {
        files.push({ path: p, text: null });
        continue;
      }
      // systemd-sysctl reads regular files only: a directory named *.conf is skipped.
      if (stat.isDirectory() || (stat.isSymbolicLink() && host.stat(p)?.isDirectory())) continue;
      const text = host.readText(p);
      if (text !== null) files.push({ path: p, text });
    } catch (error) {
      unreadable.push(`cannot read ${p}: ${describeError(error)}`);
    }
  }
  return { files, unreadable };
}

export const kernelPersistence: Control = {
  id: 'kernel-parameters-boot',
  checks: CHECKS.protectKernelDefaults,
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
    let unreadable: string[];
    try {
      ({ files, unreadable } = readBootSysctlFilesPartly(ctx.host));
    } catch (error) {
      return [{ item: 'sysctl.d', status: 'error', expected: 'readable', actual: 'unreadable', reason: describeError(error) }];
    }
    const resolution = resolveSysctl(files);
    if (unreadable.length > 0) {
      // Any unreadable file may set any key: the value at boot cannot be worked out.
      return desiredSysctls(ctx.config.sysctl).map(({ key, value }): Finding => {
        const winner = resolution.winner(key);
        const seen = winner ? `; the readable files give ${winner.value} (${winner.file}:${winner.line})` : '';
        return { item: `${key} at boot`, status: 'error', expected: value, actual: 'unknown (unreadable file)', reason: `${unreadable.join('; ')}${seen}` };
      });
    }
    return desiredSysctls(ctx.config.sysctl).map((desired): Finding => {
      const { key, value: expected } = desired;
      const consequence = desired.kubelet ? 'the kubelet will refuse to start' : 'the configured value is lost';
      const winner = resolution.winner(key);
      const item = `${key} at boot`;
      if (!winner)
        return fail(
          item,
          expected,
          'not set by any sysctl.d file',
          `no sysctl.d file sets ${key}: after a reboot the kernel default applies and ${consequence}.`,
        );
      const where = `${winner.file}:${winner.line}`;
      const actual = `${winner.value} (${where})`;
      if (sameSysctlValue(desired, winner.value)) return pass(item, expected, actual);
      const ours = resolution.history(key).find((a) => a.file === SYSCTL_FILE);
      const overrides = ours ? ` after ${SYSCTL_FILE} sets ${ours.value}` : '';
      return fail(item, expected, actual, `${where} sets ${key}=${winner.value}${overrides}; it wins at the next boot and ${consequence}.`);
    });
  },
};
