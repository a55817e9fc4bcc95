/**
 * What a path is, in a few words that change whenever what a run could read there changes: the
 * facts a remembered run is replayed on (last-run.ts).
 *
 * A path is walked from "/" one component at a time with lstat(2), as the kernel resolves it,
 * links followed (their own identity noted, since a link's target cannot change in place), and
 * every component gets an entry:
 *
 * - "m": nothing is there.
 * - "d:<mode>:<uid>:<gid>": a directory passed through. What matters of it is who may change
 *   what is under it (the trust rule, trusted-fs.ts, reads its owner and mode bits), not its
 *   identity or its times: what is read below it has entries of its own. A root-owned directory
 *   with group write bits and no world write bit also carries its change time: the trust rule
 *   then reads its ACL (the group bits are the ACL's mask), and any ACL change moves that time.
 * - "a:<mode>:<uid>:<gid>": what a run only stat'ed for its kind, mode and owner (the file
 *   checks of kube-bench: the certificates K3s writes again at every start are such files), with
 *   the change time under the same condition as "d". Rewriting its contents changes nothing the
 *   run learnt from it. Recorded in full like any other path, and kept so only at the end of a
 *   run that used nothing else of it (recording-host.ts).
 * - "f:<ino>:<mode>:<uid>:<gid>:<size>:<mtime ns>:<ctime ns>": what was read, listed or judged
 *   itself, and every symlink. A write changes the modification and change times, and a change
 *   of owner, mode, ACL or any extended attribute the change time; nobody but root can set a
 *   change time (utimensat(2) sets it to now), and a file replaced by another has another inode
 *   or another change time. The same entry therefore means the same bytes, the same owner and
 *   mode, and, for a directory, the same names in it. The device number is left out: an overlay
 *   or a btrfs subvolume gets a new one at each mount, so it would tell nothing but the boot.
 *
 * Pure functions of the file system, shared by the run that records (recording-host.ts) and the
 * run that replays: both compute an entry the same way.
 */
import * as fs from 'node:fs';

const MAX_SYMLINK_HOPS = 40;

export type Entries = Map<string, string>;

/** The facts about one path as an entry of the given kind ("d", "a" or "f"), or "m" when nothing is there. */
export function entryOf(file: string, kind: 'd' | 'a' | 'f'): string {
  const st = lstat(file);
  if (typeof st === 'string') return st;
  if (kind === 'a') return attributesEntry(st);
  return kind === 'd' && st.isDirectory() ? dirEntry(st) : fullEntry(st);
}

/**
 * lstat(2), or "m" when nothing is there (a component on the way missing or not a directory, as
 * the kernel says), or "e:<code>" when it cannot be told (an entry no recorded one equals).
 */
function lstat(file: string): fs.BigIntStats | string {
  try {
    return fs.lstatSync(file, { bigint: true, throwIfNoEntry: false }) ?? 'm';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'm' : `e:${code}`;
  }
}

/** Root-owned, writable by its group and not by others: the trust rule reads its ACL, whose changes move the change time. */
function aclRead(mode: bigint, uid: bigint): boolean {
  return uid === 0n && (mode & 0o002n) === 0n && (mode & 0o020n) !== 0n;
}

function dirEntry(st: fs.BigIntStats): string {
  return `d:${st.mode.toString(8)}:${st.uid}:${st.gid}${aclRead(st.mode, st.uid) ? `:${st.ctimeNs}` : ''}`;
}

function attributesEntry(st: fs.BigIntStats): string {
  return `a:${st.mode.toString(8)}:${st.uid}:${st.gid}${aclRead(st.mode, st.uid) ? `:${st.ctimeNs}` : ''}`;
}

/** A full entry ("f") narrowed to what an "a" entry of the same path says; any other entry as it is. */
export function attributesOf(entry: string): string {
  if (!entry.startsWith('f:')) return entry;
  const [, , mode, uid, gid, , , ctime] = entry.split(':');
  return `a:${mode}:${uid}:${gid}${aclRead(BigInt(`0o${mode}`), BigInt(uid!)) ? `:${ctime}` : ''}`;
}

function fullEntry(st: fs.BigIntStats): string {
  return `f:${st.ino}:${st.mode.toString(8)}:${st.uid}:${st.gid}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Whether an entry is a directory's (passed through, or a full entry of a directory). */
function isDirectoryEntry(entry: string | undefined): boolean {
  if (entry === undefined) return false;
  if (entry.startsWith('d:')) return true;
  // f:<ino>:<mode in octal>: a directory's mode is 040xxx.
  return entry.startsWith('f:') && entry.split(':', 3)[2]!.startsWith('40');
}

/** The change time (ns) of a full entry, or null for another kind. */
export function changeTimeNs(entry: string): bigint | null {
  if (!entry.startsWith('f:')) return null;
  return BigInt(entry.slice(entry.lastIndexOf(':') + 1));
}

/** Adds an entry, a full one replacing a passed-through one (never the reverse). */
function put(into: Entries, file: string, entry: string): void {
  const had = into.get(file);
  if (had === undefined || (had.startsWith('d:') && !entry.startsWith('d:'))) into.set(file, entry);
}

/**
 * Walks an absolute path as the kernel would (following links, the last one too) and adds an
 * entry for every component to `into`: passed-through directories as "d", the last component
 * and every link as "f". Returns the path it leads to, symlinks resolved, or null when the walk
 * stopped (something missing, not a directory, or a loop of links).
 */
export function observePath(logical: string, into: Entries): string | null {
  // Each component is asked once per run: its first answer is the one the end of the run
  // compares with (firstChanged), so asking again would only cost a system call (a check walks
  // "/" for each of some fifty paths, and a missing directory for each path under it).
  if (!into.has('/')) put(into, '/', dirEntry(fs.lstatSync('/', { bigint: true })));
  let pending = logical.split('/').filter(Boolean);
  let current = '/';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      current = current.slice(0, current.lastIndexOf('/')) || '/';
      continue;
    }
    const next = current === '/' ? `/${part}` : `${current}/${part}`;
    // A directory this walk or an earlier one passed through is not asked again, nor is one an
    // earlier walk found missing (or could not tell): its entry is the first answer.
    const known = into.get(next);
    if (pending.length > 0 && isDirectoryEntry(known)) {
      current = next;
      continue;
    }
    if (known === 'm' || known?.startsWith('e:')) return null;
    const st = lstat(next);
    if (typeof st === 'string') {
      put(into, next, st);
      return null;
    }
    const last = pending.length === 0;
    if (st.isSymbolicLink()) {
      put(into, next, fullEntry(st));
      if (++hops > MAX_SYMLINK_HOPS) return null;
      const target = fs.readlinkSync(next);
      if (target.startsWith('/')) current = '/';
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    if (last) {
      put(into, next, fullEntry(st));
      return next;
    }
    if (!st.isDirectory()) {
      put(into, next, fullEntry(st));
      return null;
    }
    put(into, next, dirEntry(st));
    current = next;
  }
  return current;
}

/** The first entry that no longer holds, as "path: was, now", or null when every one does. */
export function firstChanged(entries: Iterable<[string, string]>): string | null {
  for (const [file, entry] of entries) {
    const now = entryOf(file, entry.startsWith('d:') ? 'd' : entry.startsWith('a:') ? 'a' : 'f');
    if (now !== entry) return `${file}: ${entry} -> ${now}`;
  }
  return null;
}
