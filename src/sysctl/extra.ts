/**
 * Rules for kernel parameters beyond the kubelet's six (the configuration's `sysctl:`), checked
 * before anything is written: 90-kubelet.conf is applied at every boot, so a typo, a malformed
 * value or a parameter that hands the kernel a program to run would be re-applied at every boot.
 */

/**
 * Parameters through which the kernel runs a program as root: a user-mode helper path, or a
 * core pattern that pipes to one (core(5): "|" runs the program), and the capability bounds of
 * those helpers. None of them is a hardening setting; all are refused.
 */
const RUNS_A_PROGRAM: ReadonlyArray<{ key: RegExp; when?: (value: string) => boolean; why: string }> = [
  {
    key: /^kernel\.core_pattern$/,
    when: (v) => v.trimStart().startsWith('|'),
    why: 'a core pattern starting with "|" makes the kernel run that program as root on every core dump',
  },
  { key: /^kernel\.(modprobe|poweroff_cmd|hotplug|reboot_cmd)$/, why: 'it names a program the kernel runs as root' },
  { key: /^kernel\.usermodehelper\./, why: 'it widens what the programs the kernel starts as root may do' },
  { key: /^fs\.binfmt_misc\./, why: 'it registers interpreters the kernel runs' },
];

/** A key as the configuration may name one: dot-separated components, no leading "-" (sysctl.d's "ignore failure"), no globs. */
export const SYSCTL_KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*([./][A-Za-z0-9_:@+-]+)+$/;

/** Why a key and value must not be written, from the key and value alone; null when they may. */
export function extraSysctlProblem(key: string, value: string): string | null {
  for (const rule of RUNS_A_PROGRAM) {
    if (rule.key.test(key) && (rule.when?.(value) ?? true)) return `${key} is refused: ${rule.why}`;
  }
  if (!/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(value.replace(/\t/g, ' ').replace(/ +/g, ' '))) {
    return `${key}: expected printable characters without control characters, got ${JSON.stringify(value)}`;
  }
  return null;
}

const INTEGERS = /^-?\d+(\s+-?\d+)*$/;

/**
 * Why a value does not fit the running kernel's parameter, judged by what the kernel holds now
 * (`live`, the text of /proc/sys/...; null when there is no such file): a missing key is a typo
 * or a module that is not loaded; a parameter holding integers takes as many integers.
 */
export function liveSysctlProblem(key: string, value: string, live: string | null): string | null {
  if (live === null)
    return `${key}: no such kernel parameter on this host (/proc/sys/${key.replace(/\./g, '/')} does not exist): a typo, or a module that is not loaded`;
  const now = live.trim();
  if (INTEGERS.test(now)) {
    const want = value.trim();
    if (!INTEGERS.test(want))
      return `${key}: expected ${now.split(/\s+/).length === 1 ? 'an integer' : `${now.split(/\s+/).length} integers`} (the kernel holds "${now}"), got ${JSON.stringify(value)}`;
    if (want.split(/\s+/).length !== now.split(/\s+/).length)
      return `${key}: expected ${now.split(/\s+/).length} integer(s) (the kernel holds "${now}"), got ${JSON.stringify(value)}`;
  }
  return null;
}
