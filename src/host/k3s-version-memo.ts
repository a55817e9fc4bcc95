/**
 * What `k3s --version` printed, remembered for the binary that printed it, so that a boot with
 * the same K3s starts no process: the file's identity (device, inode, size, modification and
 * change times in nanoseconds) names the binary. Replacing or rewriting it changes the inode or
 * the change time, which no user can set back, so a recalled output is the one this very binary
 * prints. The memo lives in k3s-hostprep's root-owned state directory and is read only when
 * nobody but root can have written it (the host's trusted read); a memo that does not parse or
 * names another binary is ignored, and the binary is asked again.
 */
import type { BigIntStats } from 'node:fs';

export const K3S_VERSION_MEMO = '/var/lib/k3s-hostprep/k3s-version.json';

export interface BinaryIdentity {
  file: string;
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export function identityOf(file: string, st: BigIntStats): BinaryIdentity {
  return { file, dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

/** The memo's text: the identity and the output, as JSON. */
export function memoText(id: BinaryIdentity, stdout: string): string {
  return `${JSON.stringify({ ...id, stdout })}\n`;
}

/** The remembered output when the memo names exactly this binary, else null. */
export function recall(text: string | null, id: BinaryIdentity): string | null {
  if (text === null) return null;
  let memo: unknown;
  try {
    memo = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof memo !== 'object' || memo === null) return null;
  const m = memo as Record<string, unknown>;
  for (const key of Object.keys(id) as Array<keyof BinaryIdentity>) if (m[key] !== id[key]) return null;
  return typeof m.stdout === 'string' ? m.stdout : null;
}
