/**
 * The kernel parameters the kubelet checks at start-up under --protect-kernel-defaults
 * (kubernetes pkg/kubelet/cm/container_manager_linux.go, setupKernelTunables): read from
 * /proc/sys, trimmed, parsed as an integer and compared with ==. The hardening guide lists
 * the first four; the kubelet checks all six.
 */
export const KUBELET_SYSCTLS: ReadonlyArray<readonly [string, number]> = [
  ['vm.panic_on_oom', 0],
  ['vm.overcommit_memory', 1],
  ['kernel.panic', 10],
  ['kernel.panic_on_oops', 1],
  ['kernel.keys.root_maxkeys', 1000000],
  ['kernel.keys.root_maxbytes', 25000000],
];

export const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';

/** strconv.Atoi on the trimmed text, as the kubelet parses it; null when it does not parse. */
export function parseKernelInt(text: string): number | null {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : null;
}

/** The kubelet's own words for a mismatch. */
export function kubeletMessage(key: string, expected: number, actual: string): string {
  return `invalid kernel flag: ${key.replace(/\./g, '/')}, expected value: ${expected}, actual value: ${actual}`;
}

export interface DesiredSysctl {
  key: string;
  value: string;
  /** One of the six the kubelet checks (compared as integers), or an extra one from the config. */
  kubelet: boolean;
}

/** The six, then the config's extra parameters in the order written (a repeat of one of the six is dropped). */
export function desiredSysctls(extra: Readonly<Record<string, string>>): DesiredSysctl[] {
  const six = KUBELET_SYSCTLS.map(([key, value]) => ({ key, value: String(value), kubelet: true }));
  const more = Object.entries(extra)
    .filter(([key]) => !KUBELET_SYSCTLS.some(([k]) => k === key))
    .map(([key, value]) => ({ key, value, kubelet: false }));
  return [...six, ...more];
}

/** Whether a live or configured value is the desired one: integers as the kubelet compares them, else word by word. */
export function sameSysctlValue(desired: DesiredSysctl, actual: string): boolean {
  const want = parseKernelInt(desired.value);
  const got = parseKernelInt(actual);
  if (desired.kubelet || (want !== null && got !== null)) return want !== null && want === got;
  return desired.value.trim().split(/\s+/).join(' ') === actual.trim().split(/\s+/).join(' ');
}

/** Why setting a key to a value would weaken one of the six, or null. */
export function weakensKubelet(key: string, value: unknown): string | null {
  const six = KUBELET_SYSCTLS.find(([k]) => k === key);
  if (!six) return null;
  const given = typeof value === 'number' ? value : typeof value === 'string' ? parseKernelInt(value) : null;
  return given === six[1]
    ? null
    : `the kubelet requires ${key}=${six[1]} under --protect-kernel-defaults; ${JSON.stringify(value)} would stop it from starting`;
}
