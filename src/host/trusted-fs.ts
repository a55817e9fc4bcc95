/**
 * The file layer of a root run: every path is walked one component at a time from a directory
 * held open, never resolved by path and used later.
 *
 * Node has no openat(2). The kernel offers the same thing through /proc: for a directory held
 * open as descriptor N, "/proc/self/fd/N/name" is looked up from that directory, whatever has
 * happened to the path it was opened by. Each directory is opened with O_DIRECTORY|O_NOFOLLOW
 * relative to the one before and judged by fstat(2) of the descriptor, so what is judged is what
 * is used: a directory swapped for a symlink between two steps makes the next open fail (ELOOP)
 * instead of leading somewhere else. Symlinks are resolved here, in userspace, one hop at a time
 * (inside the root under --root, as a chroot would), and each directory they lead through is
 * judged like the others: the rule holds on the resolved path as well as on the written one.
 *
 * The rule ("trusted") for what a root run reads as instruction or writes into: nobody but root
 * can change it. A directory or file is trusted when it is owned by root, not writable by others,
 * not writable by its group unless that group is root, and carries no POSIX ACL entry granting
 * write. A world-writable directory with the sticky bit (/tmp) may be passed through to an entry
 * root owns (nobody else can rename or remove that entry), but nothing is written into it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const O = fs.constants;
const DIR_FLAGS = O.O_RDONLY | O.O_DIRECTORY | O.O_NOFOLLOW;
const MAX_SYMLINK_HOPS = 40;
/** What any one read takes at most unless the caller says otherwise: far above every file k3s-hostprep reads. */
export const DEFAULT_MAX_READ_BYTES = 4 * 1024 * 1024;

/** Why a path someone other than root could change is not trusted: the path on this machine and the reason. */
export interface Distrust {
  path: string;
  why: string;
}

/** The message for a path that is not trusted, with the fix. */
export function describeDistrust(d: Distrust): string {
  return `${d.path} ${d.why}: someone other than root can change it, so k3s-hostprep neither reads instructions from it nor writes under it. ${trustFix(d.path)}`;
}

/** A path someone other than root could change: refused for reading instructions or writing. */
export class UntrustedPathError extends Error {
  readonly code = 'EUNTRUSTED';
  constructor(readonly distrust: Distrust) {
    super(describeDistrust(distrust));
    this.name = 'UntrustedPathError';
  }
}

/** A read refused before it started: not a regular file, or larger than its cap. */
export class UnreadableFileError extends Error {
  constructor(
    message: string,
    readonly code: 'ESPECIAL' | 'EFBIG',
  ) {
    super(message);
    this.name = 'UnreadableFileError';
  }
}

/**
 * openSync with its failure returned, not thrown: a directory found missing is an answer a cycle
 * gets a dozen times, and capturing an exception's stack costs more than the open itself. The
 * error carries its code and message as ever, without the stack.
 */
export function tryOpen(file: string, flags: number): number | NodeJS.ErrnoException {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fs.openSync(file, flags);
  } catch (error) {
    return error as NodeJS.ErrnoException;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The path of an entry in a directory held open: looked up by the kernel from that directory. */
export function at(dirFd: number, name: string): string {
  return `/proc/self/fd/${dirFd}/${name}`;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** child_process when it is needed (rarely: an ACL to read); no import on the boot path. */
function childProcess(): typeof import('node:child_process') {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (get) return get('node:child_process') as typeof import('node:child_process');
  return require('node:child_process') as typeof import('node:child_process');
}

const GETFACL = ['/usr/bin/getfacl', '/bin/getfacl'];

/**
 * Whether an extended POSIX ACL on the open file grants write to anyone but the owner. The
 * group bits of the mode are the ACL's mask when there is one, so this is asked only when they
 * allow write; getfacl(1) reads the descriptor through /proc/self/fd/3 in the child.
 */
function aclGrantsWrite(fd: number): string | null {
  const getfacl = GETFACL.find((f) => {
    try {
      const s = fs.statSync(f);
      return s.isFile() && s.uid === 0 && (s.mode & 0o022) === 0;
    } catch {
      return false;
    }
  });
  if (getfacl === undefined) return 'is group-writable and its ACL cannot be read (getfacl from the acl package is missing)';
  const result = childProcess().spawnSync(getfacl, ['--omit-header', '--numeric', '--absolute-names', '/proc/self/fd/3'], {
    stdio: ['ignore', 'pipe', 'pipe', fd],
    encoding: 'utf8',
    timeout: 10_000,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  if (result.status !== 0) return `is group-writable and its ACL cannot be read (getfacl: ${String(result.stderr ?? result.error ?? '').trim()})`;
  const grants = String(result.stdout)
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => /^(user:[^:]+|group:[^:]*):[r-]w/.test(l) && !/^group::/.test(l));
  return grants.length > 0 ? `has an ACL that grants write (${grants.join(', ')})` : null;
}

export interface Judgement {
  /** Why someone other than root can change it, or null. */
  why: string | null;
  /**
   * World-writable with the sticky bit (and otherwise trusted): an entry root owns in it stays
   * root's, so it may be passed through to a directory root owns, but what it lists is not
   * trusted and nothing is written into it.
   */
  sticky: boolean;
}

/** Judges an open file or directory by its descriptor. */
export function judge(fd: number, stat: fs.Stats = fs.fstatSync(fd)): Judgement {
  const sticky = (stat.mode & 0o1002) === 0o1002 && stat.isDirectory();
  if (stat.uid !== 0) return { why: `is owned by uid ${stat.uid}`, sticky: false };
  if ((stat.mode & 0o002) !== 0) return { why: `is world-writable (mode ${octal(stat.mode)})`, sticky };
  if ((stat.mode & 0o020) !== 0) {
    if (stat.gid !== 0) return { why: `is writable by group ${stat.gid} (mode ${octal(stat.mode)})`, sticky };
    const acl = aclGrantsWrite(fd);
    if (acl !== null) return { why: acl, sticky };
  }
  return { why: null, sticky };
}

/** The fix an operator applies to a path that is not trusted. */
export function trustFix(real: string): string {
  return `Make it root's, not group- or world-writable and without ACL entries (chown root:root ${real}; chmod go-w ${real}; setfacl -b ${real}), then run again.`;
}

export interface WalkOptions {
  /** Refuse (throw UntrustedPathError) at the first directory that is not trusted. */
  trust: boolean;
  /** Follow a symlink in the last component too. */
  followFinal: boolean;
  /** Create missing directories on the way (not the last component) with this mode. */
  create?: (logical: string) => number;
  /** The last component is a directory root owns (checked by the caller): a sticky parent may be passed through. */
  finalIsRootDir?: boolean;
  /**
   * Directories already opened and found trusted, with every directory above them, by the path
   * they were reached by; null for a directory found missing in such a directory (not a sticky
   * one). Sound because nobody but root can change what such a path leads to, nor add an entry
   * there; the caller forgets them when it changes a directory itself, and soon after in any case.
   */
  cache?: DirCache;
  /** Remember in the cache the directories found missing too (see DirCache); otherwise they are asked again each time. */
  rememberMissing?: boolean;
}

/** underSticky: its own directory is sticky and world-writable (passable, but not a trusted place to be in). */
export type DirCache = Map<string, { fd: number; underSticky: boolean } | null>;

export function forgetDirs(cache: DirCache): void {
  for (const held of cache.values()) if (held !== null) fs.closeSync(held.fd);
  cache.clear();
}

/** Forgets the directories found missing: the caller may have put something by that name. */
export function forgetMissing(cache: DirCache): void {
  for (const [key, held] of cache) if (held === null) cache.delete(key);
}

/** Where a walk ended: the last component's directory, held open, and the last component's name. */
export interface Located {
  dirFd: number;
  name: string;
  /** The path of the last component on this machine (for messages). */
  real: string;
  /** The path of the last component as the prepared system sees it, after symlinks. */
  logical: string;
  /** Why some directory on the way (or its resolved path) is not trusted, or null. */
  untrusted: Distrust | null;
  /** The last component's directory is sticky and world-writable. */
  stickyParent: boolean;
  /** The last component's lstat when links were followed there (the walk needed it): null when it is missing. */
  entry?: fs.Stats | null;
  close(): void;
}

interface Held {
  fd: number;
  part: string;
  /** The path it was reached by ("/var/lib"): its key in the cache. */
  key: string;
  /** Owned by the cache: not closed here. */
  cached?: boolean;
  /** Why it is not trusted when it is sticky and world-writable (passable to a root-owned entry only). */
  sticky: string | null;
}

/**
 * Walks a path of the prepared system below a root held open. null when a directory on the
 * way is missing (and none is created). Throws ENOTDIR/ELOOP as the kernel would.
 */
export function walk(rootFd: number, rootReal: string, rootUntrusted: Distrust | null, logical: string, options: WalkOptions): Located | null {
  if (!path.posix.isAbsolute(logical)) throw new Error(`not an absolute path: ${logical}`);
  let pending = logical.split('/').filter((p) => p !== '' && p !== '.');
  const stack: Held[] = [];
  const top = () => stack[stack.length - 1];
  const topFd = () => top()?.fd ?? rootFd;
  const realOf = (parts: string[]) => path.join(rootReal, ...parts);
  const done = () => stack.map((h) => h.part);
  if (options.trust && rootUntrusted) throw new UntrustedPathError(rootUntrusted);
  let untrusted = rootUntrusted;
  let hops = 0;
  const release = (h: Held) => {
    if (!h.cached) fs.closeSync(h.fd);
  };
  const closeAll = () => {
    for (const h of stack.splice(0)) release(h);
  };
  const note = (real: string, why: string | null) => {
    if (why === null) return;
    if (options.trust) throw new UntrustedPathError({ path: real, why });
    untrusted ??= { path: real, why };
  };
  try {
    for (;;) {
      if (pending.length === 0) {
        // The root itself (logical "/"), or a walk that ended in ".." up to it.
        if (stack.length === 0) return located(rootFd, '.', rootReal, '/', false);
        const last = stack.pop()!;
        release(last);
        pending = [last.part];
        continue;
      }
      const part = pending.shift()!;
      if (part === '..') {
        const h = stack.pop();
        if (h) release(h);
        continue;
      }
      const isLast = pending.length === 0;
      const dirFd = topFd();
      // Built from the directory above's (not from every part again): a walk runs hundreds of times a cycle.
      const key = isLast || untrusted !== null ? null : `${top()?.key ?? ''}/${part}`;
      const hit = key === null ? undefined : options.cache?.get(key);
      if (hit) {
        stack.push({ fd: hit.fd, part, key: key!, sticky: null, cached: true });
        continue;
      }
      // Found missing already in this stretch: it is created anew when asked to, else still missing.
      if (hit === null && !options.create) {
        closeAll();
        return null;
      }
      const sticky = top()?.sticky != null;
      // A directory on the way is opened straight away; only a failure (a link, a file, nothing) costs an lstat.
      // Only the last component (when links are followed there) costs an lstat.
      let fd: number | null = null;
      let entry: fs.Stats | null | undefined;
      if (isLast) {
        entry = options.followFinal ? (fs.lstatSync(at(dirFd, part), { throwIfNoEntry: false }) ?? null) : undefined;
      } else {
        const opened = tryOpen(at(dirFd, part), DIR_FLAGS);
        if (typeof opened === 'number') fd = opened;
        else {
          const error = opened;
          const code = error.code;
          // O_DIRECTORY|O_NOFOLLOW on a link fails with ENOTDIR (or ELOOP): lstat tells a link from a file.
          if (code === 'ENOENT') {
            entry = null;
            if (key !== null && !sticky && options.rememberMissing) options.cache?.set(key, null);
          } else if (code === 'ELOOP' || code === 'ENOTDIR') {
            entry = fs.lstatSync(at(dirFd, part), { throwIfNoEntry: false }) ?? null;
            if (entry !== null && !entry.isSymbolicLink()) throw error;
          } else throw error;
        }
      }
      if (entry?.isSymbolicLink() && (!isLast || options.followFinal)) {
        // A link in a directory others can add entries to must be root's own (fs.protected_symlinks).
        if (sticky && entry.uid !== 0) note(realOf([...done(), part]), `is a symlink owned by uid ${entry.uid} in a world-writable directory`);
        if (++hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error(`too many levels of symbolic links: ${logical}`), { code: 'ELOOP' });
        const target = fs.readlinkSync(at(dirFd, part));
        if (target.startsWith('/')) closeAll();
        pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
        continue;
      }
      if (isLast) {
        // A sticky directory is trusted to lead to a directory root owns, never to hold what is read or written.
        if (sticky && !options.finalIsRootDir) note(realOf(done()), top()!.sticky!);
        // The path the directory above was reached by, and this name: the parts joined, without joining them again.
        const logicalPath = `${top()?.key ?? ''}/${part}`;
        return located(dirFd, part, rootReal === '/' ? logicalPath : path.join(rootReal, logicalPath), logicalPath, sticky, entry);
      }
      if (fd === null) {
        if (!options.create) {
          // The directories held on the way (an uncached sticky one) are not left open.
          closeAll();
          return null;
        }
        if (key !== null) options.cache?.delete(key);
        const parts = done();
        if (sticky) note(realOf(parts), 'is world-writable: k3s-hostprep does not create directories in it');
        fs.mkdirSync(at(dirFd, part), { mode: 0o700 });
        const made = fs.openSync(at(dirFd, part), DIR_FLAGS);
        fs.fchownSync(made, 0, 0);
        fs.fchmodSync(made, options.create('/' + [...parts, part].join('/')));
        fs.fsyncSync(dirFd);
        stack.push({ fd: made, part, key: `${top()?.key ?? ''}/${part}`, sticky: null });
        continue;
      }
      stack.push({ fd, part, key: key ?? `${top()?.key ?? ''}/${part}`, sticky: null });
      const judged = judge(fd);
      if (judged.sticky) stack[stack.length - 1]!.sticky = judged.why;
      else if (judged.why !== null) note(realOf(done()), judged.why);
      if (judged.why === null && untrusted === null && key !== null && options.cache) {
        options.cache.set(key, { fd, underSticky: sticky });
        stack[stack.length - 1]!.cached = true;
      }
    }
  } catch (error) {
    closeAll();
    throw error;
  }

  function located(dirFd: number, name: string, real: string, logicalPath: string, stickyParent: boolean, entry?: fs.Stats | null): Located {
    const held = stack.splice(0);
    // Only the last directory stays open.
    for (const h of held) if (h.fd !== dirFd) release(h);
    const ownsDir = dirFd !== rootFd && !held.some((h) => h.fd === dirFd && h.cached);
    return {
      dirFd,
      name,
      real,
      logical: logicalPath,
      untrusted,
      stickyParent,
      ...(entry !== undefined ? { entry } : {}),
      close() {
        if (ownsDir) fs.closeSync(dirFd);
      },
    };
  }
}

/** Opens and judges a root directory from "/" (its own path and every directory on it). */
export function openRoot(root: string): { fd: number; untrusted: Distrust | null } {
  if (root === '/') {
    const fd = fs.openSync('/', O.O_RDONLY | O.O_DIRECTORY);
    const judged = judge(fd);
    return { fd, untrusted: judged.why === null ? null : { path: '/', why: judged.why } };
  }
  const top = openRoot('/');
  const found = walk(top.fd, '/', top.untrusted, root, { trust: false, followFinal: true, finalIsRootDir: true });
  if (found === null) {
    fs.closeSync(top.fd);
    throw Object.assign(new Error(`${root}: no such directory`), { code: 'ENOENT' });
  }
  try {
    const fd = fs.openSync(at(found.dirFd, found.name), DIR_FLAGS);
    const judged = judge(fd);
    return { fd, untrusted: found.untrusted ?? (judged.why === null ? null : { path: root, why: judged.why }) };
  } finally {
    found.close();
    fs.closeSync(top.fd);
  }
}

/**
 * Reads an open regular file with a cap: a FIFO, a device or a directory is refused before any
 * read (the descriptor was opened O_NONBLOCK, so opening a FIFO did not wait either).
 */
export function readOpenFile(fd: number, shown: string, maxBytes: number, stat: fs.Stats = fs.fstatSync(fd)): Buffer {
  if (!stat.isFile()) throw new UnreadableFileError(`${shown} is not a regular file (${kindOf(stat)}); k3s-hostprep reads only regular files`, 'ESPECIAL');
  if (stat.size > maxBytes) throw new UnreadableFileError(`${shown} is ${stat.size} bytes; the limit is ${maxBytes} bytes`, 'EFBIG');
  // One byte more than the cap tells a file that grew while it was read from one that did not.
  let buffer = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 4096));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) throw new UnreadableFileError(`${shown} grew past the limit of ${maxBytes} bytes while it was read`, 'EFBIG');
      const bigger = Buffer.alloc(Math.min(maxBytes + 1, buffer.length * 2));
      buffer.copy(bigger);
      buffer = bigger;
    }
    const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
    if (n === 0) return buffer.subarray(0, length);
    length += n;
  }
}

export function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symlink';
  return 'a special file';
}

/** Flags for opening an entry of a held directory to read or change it: never following a link, never waiting on a FIFO. */
export const ENTRY_FLAGS = O.O_RDONLY | O.O_NOFOLLOW | O.O_NONBLOCK;
export { DIR_FLAGS };
