import * as fs from 'node:fs';
import * as path from 'node:path';

const MAX_SYMLINK_HOPS = 40;

/**
 * Maps a path as the prepared system sees it (always absolute) to the path on this machine.
 * With root "/" that is the path itself. Under another root every symlink on the way is
 * resolved inside that root, as a chroot would, so that an absolute link in an image never
 * leads out to this machine's files. The last component is followed only when asked.
 */
export function resolveInRoot(root: string, logical: string, followFinal: boolean): string {
  if (!path.isAbsolute(logical)) throw new Error(`not an absolute path: ${logical}`);
  if (root === '/') return logical;
  let pending = logical.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(root, ...done, part);
    const isLast = pending.length === 0;
    let target: string | null = null;
    if (!isLast || followFinal) {
      try {
        if (fs.lstatSync(candidate).isSymbolicLink()) target = fs.readlinkSync(candidate);
      } catch {
        target = null;
      }
    }
    if (target === null) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error(`too many levels of symbolic links: ${logical}`), { code: 'ELOOP' });
    const rest = target.split('/').filter(Boolean);
    if (path.isAbsolute(target)) done.length = 0;
    pending = [...rest, ...pending];
  }
  return path.join(root, ...done);
}
