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
