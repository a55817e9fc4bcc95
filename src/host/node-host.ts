import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_STATE_BYTES, type DirectoryWatch, type Host, type HostFacts, type ProcessResult, type ReadOptions, type WriteOptions } from './host.js';
import { sysctlPath } from './host.js';
import { resolveInRoot } from './paths.js';
import { distributionName, parseOsRelease } from './os-release.js';
import { findExecutable, runProgram } from './exec.js';
import {
  DEFAULT_MAX_READ_BYTES,
  DIR_FLAGS,
  ENTRY_FLAGS,
  UntrustedPathError,
  at,
  describeDistrust,
  judge,
  openRoot,
  readOpenFile,
  tryOpen,
  walk,
  forgetDirs,
  forgetMissing,
  type DirCache,
  type Distrust,
  type Located,
  type WalkOptions,
} from './trusted-fs.js';

import { K3S_VERSION_MEMO, identityOf, memoText, recall, type BinaryIdentity } from './k3s-version-memo.js';

export { findExecutable };

function missing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The name a temporary file gets beside its target: hidden, and ending in no suffix that K3s or
 * sysctl read. It need not be unpredictable: it is made only in a directory nobody but root can
 * write (forWrite), with O_EXCL, so it never replaces anything; the process id and 32 random
 * bits keep two runs apart. Math.random, not node:crypto, which a run that writes only a state
 * file would load for this alone (some 4 ms).
 */
export function tempName(target: string): string {
  const random = Math.floor(Math.random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
  return path.join(path.dirname(target), `.${path.basename(target)}.k3s-hostprep-${process.pid}-${random}.tmp`);
}

/** The identity of the file exec would run (links followed), or null when it cannot be told. */
function binaryIdentity(file: string): BinaryIdentity | null {
  try {
    return identityOf(file, fs.statSync(file, { bigint: true }));
  } catch {
    return null;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether a name in a target's directory is a temporary file tempName made for that target (or
 * for a backup of it): what a run killed between creating and renaming it leaves behind.
 */
export function isTempNameFor(targetBase: string, name: string): boolean {
  const pattern = new RegExp(
    `^\\.${escapeRegExp(targetBase)}(\\.k3s-hostprep-backup-\\d{8}T\\d{6}(\\.\\d{3})?Z(-\\d+)?)?\\.k3s-hostprep-\\d+-[0-9a-f]{8}\\.tmp$`,
  );
  return pattern.test(name);
}

/** The suffix of a backup: the time to the millisecond, and a counter when that name is taken. */
export function backupSuffix(date: Date, attempt = 0): string {
  return `.k3s-hostprep-backup-${date.toISOString().replace(/[-:]/g, '')}${attempt > 0 ? `-${attempt}` : ''}`;
}

/** A backup may be as large as the file it keeps (a unit, a binary). */
const MAX_BACKUP_BYTES = 512 * 1024 * 1024;

function refuse(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The real machine, or a root directory holding an image of one. Every file operation walks
 * its path from the root held open (trusted-fs.ts): nothing is resolved by path and used later,
 * modes and owners are changed through descriptors, and whatever is written, and every
 * directory it is written under, must be trusted (only root can change it).
 */
export class NodeHost implements Host {
  readonly root: string;
  readonly live: boolean;
  readonly euid: number;
  private rootHandle: { fd: number; untrusted: Distrust | null } | null = null;
  private readonly dirs: DirCache = new Map();
  private forgetQueued = false;
  /** Directories found missing are remembered for the rest of this stretch (rememberMissing). */
  private missingKept = false;

  /** live defaults to whether root is "/"; tests may point a live host's files elsewhere. */
  constructor(root = '/', live?: boolean) {
    this.root = path.resolve(root);
    this.live = live ?? this.root === '/';
    this.euid = process.geteuid?.() ?? 0;
  }

  /** The root, opened (and judged, with every directory on its path) once per host. */
  private rootDir(): { fd: number; untrusted: Distrust | null } {
    this.rootHandle ??= openRoot(this.root);
    return this.rootHandle;
  }

  /**
   * Trusted directories already walked, kept open while the current synchronous stretch of work
   * runs (a check walks the same few directories hundreds of times) and forgotten as soon as it
   * yields: whatever happens between two steps of a run, or two cycles of watch, is seen. This
   * host forgets them too whenever it changes a directory itself.
   */
  private dirCache(): DirCache {
    if (!this.forgetQueued) {
      this.forgetQueued = true;
      queueMicrotask(() => {
        this.forgetQueued = false;
        this.missingKept = false;
        forgetDirs(this.dirs);
      });
    }
    return this.dirs;
  }

  private changedDirs(): void {
    forgetDirs(this.dirs);
  }

  /**
   * For the rest of this stretch, a directory found missing is remembered like a trusted one is
   * kept open (only root can make it there) instead of being asked again for every path under
   * it. A run asks for it (RunReads): it changes the host only through this host, which forgets
   * them. A caller that changes files itself between two reads of one stretch does not.
   */
  rememberMissing(): void {
    this.dirCache();
    this.missingKept = true;
  }

  /** Walks to a path's last component; null when a directory on the way is missing. */
  private locate(logical: string, options: WalkOptions): Located | null {
    const root = this.rootDir();
    return walk(root.fd, this.root, root.untrusted, logical, { ...options, cache: this.dirCache(), rememberMissing: this.missingKept });
  }

  /** Walks to a path to change it: every directory on the way trusted, the last one not world-writable. */
  private forWrite<T>(logical: string, act: (dirFd: number, name: string, shown: string) => T): T {
    const found = this.locate(logical, { trust: true, followFinal: false });
    if (found === null) throw refuse(`ENOENT: a directory on the way to ${logical} does not exist`, 'ENOENT');
    try {
      if (found.stickyParent) throw new UntrustedPathError({ path: path.dirname(found.real), why: 'is world-writable (sticky)' });
      return act(found.dirFd, found.name, found.real);
    } finally {
      found.close();
      // What was written may stand where a directory was found missing.
      forgetMissing(this.dirs);
    }
  }

  /** Walks to a path without judging it (the caller judges what it opens); null when something on the way is missing. */
  private find(logical: string, followFinal: boolean): Located | null {
    try {
      return this.locate(logical, { trust: false, followFinal });
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  private inspect<T>(logical: string, followFinal: boolean, act: (dirFd: number, name: string, entry?: fs.Stats | null) => T): T | null {
    const found = this.find(logical, followFinal);
    if (found === null) return null;
    try {
      return act(found.dirFd, found.name, found.entry);
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    } finally {
      found.close();
    }
  }

  watchDirectory(logical: string, onChange: (name: string | null) => void, onError: (error: Error) => void): DirectoryWatch {
    const watcher = fs.watch(this.realPath(logical), { persistent: false }, (_event, name) => onChange(name === null ? null : String(name)));
    watcher.on('error', (error) => {
      watcher.close();
      onError(error);
    });
    return { close: () => watcher.close() };
  }

  realPath(logical: string): string {
    return resolveInRoot(this.root, logical, false);
  }

  lstat(logical: string): fs.Stats | null {
    return this.inspect(logical, false, (d, name) => fs.lstatSync(at(d, name), { throwIfNoEntry: false }) ?? null);
  }

  stat(logical: string): fs.Stats | null {
    // The walk has lstat'ed the last component to follow it: that answer is the one.
    return this.inspect(logical, true, (d, name, entry) => (entry !== undefined ? entry : (fs.lstatSync(at(d, name), { throwIfNoEntry: false }) ?? null)));
  }

  readFile(logical: string, options: ReadOptions = {}): Uint8Array | null {
    // Most files are no link: opened as written first (O_NOFOLLOW), and walked again following
    // the last component only when it is one (ELOOP). Either way what is read is what was opened.
    const direct = this.openToRead(logical, false);
    const opened = direct === 'link' ? this.openToRead(logical, true) : direct;
    if (opened === null || opened === 'link') return null;
    const { found, fd } = opened;
    try {
      const stat = fs.fstatSync(fd);
      if ((options.trust ?? true) && stat.isFile()) {
        if (found.untrusted) throw new UntrustedPathError(found.untrusted);
        const why = judge(fd, stat).why;
        if (why !== null) throw new UntrustedPathError({ path: found.real, why });
      }
      // A special file is refused by readOpenFile before any read.
      return readOpenFile(fd, found.real, options.maxBytes ?? DEFAULT_MAX_READ_BYTES, stat);
    } finally {
      fs.closeSync(fd);
      found.close();
    }
  }

  /**
   * Walks to a file and opens it to read (never following a link in the last step); null when
   * it is missing, "link" when the last component is a symlink and links were not followed.
   * Judged by the caller, once the file is open: what it is (a FIFO, a directory) is said first.
   */
  private openToRead(logical: string, followFinal: boolean): { found: Located; fd: number } | null | 'link' {
    const found = this.find(logical, followFinal);
    if (found === null) return null;
    try {
      return { found, fd: fs.openSync(at(found.dirFd, found.name), ENTRY_FLAGS) };
    } catch (error) {
      found.close();
      if (missing(error)) return null;
      if (!followFinal && (error as NodeJS.ErrnoException).code === 'ELOOP') return 'link';
      throw error;
    }
  }

  readText(logical: string, options?: ReadOptions): string | null {
    const bytes = this.readFile(logical, options);
    return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  readBytes(logical: string, options?: ReadOptions): Uint8Array | null {
    return this.readFile(logical, options);
  }

  untrusted(logical: string): string | null {
    for (let p = logical; ; p = path.posix.dirname(p)) {
      if (this.walkedTrusted(p)) return null;
      let found: Located | null = null;
      try {
        found = this.locate(p, { trust: false, followFinal: true });
      } catch (error) {
        if (!missing(error)) throw error;
      }
      if (found !== null) {
        try {
          let fd: number | null = null;
          try {
            fd = fs.openSync(at(found.dirFd, found.name), ENTRY_FLAGS);
          } catch (error) {
            // A socket cannot be opened (ENXIO): it is judged by its directory.
            if ((error as NodeJS.ErrnoException).code === 'ENXIO') return found.untrusted ? describeDistrust(found.untrusted) : null;
            if (!missing(error)) throw error;
          }
          if (fd !== null) {
            try {
              if (found.untrusted) return describeDistrust(found.untrusted);
              const why = judge(fd).why;
              return why === null ? null : describeDistrust({ path: found.real, why });
            } finally {
              fs.closeSync(fd);
            }
          }
        } finally {
          found.close();
        }
      }
      // Only what exists is judged: go up to the nearest existing ancestor.
      if (p === '/') return null;
    }
  }

  /**
   * Whether this stretch has walked through this directory already and found it trusted, with
   * every directory above it, in a directory that is not sticky: what untrusted() would find by
   * walking it again (the cache holds only such directories, by the plain path they were reached by).
   */
  private walkedTrusted(logical: string): boolean {
    if (logical === '/' || path.posix.normalize(logical) !== logical || logical.endsWith('/')) return false;
    const held = this.dirCache().get(logical);
    return held != null && !held.underSticky;
  }

  readDir(logical: string): string[] | null {
    // Opened as written first (most directories are no link); walked again following the last
    // component only when that open says it is a link or no directory.
    const direct = this.listDir(logical, false);
    return direct === 'again' ? (this.listDir(logical, true) as string[] | null) : direct;
  }

  /**
   * Lists a directory through a descriptor: the one this stretch holds already for the path it
   * leads to, or a new one, kept with the others when the directory and every one above it are
   * trusted (as a walk through it would keep it: the files read from it next need it again).
   */
  private listDir(logical: string, followFinal: boolean): string[] | null | 'again' {
    const found = this.find(logical, followFinal);
    if (found === null) return null;
    try {
      const held = this.dirs.get(found.logical);
      if (held) return fs.readdirSync(`/proc/self/fd/${held.fd}`);
      const fd = tryOpen(at(found.dirFd, found.name), DIR_FLAGS);
      if (typeof fd !== 'number') {
        if (!followFinal && (fd.code === 'ELOOP' || fd.code === 'ENOTDIR')) return 'again';
        throw fd;
      }
      let kept = false;
      try {
        if (found.untrusted === null && found.logical !== '/' && judge(fd).why === null) {
          this.dirs.set(found.logical, { fd, underSticky: found.stickyParent });
          kept = true;
        }
        return fs.readdirSync(`/proc/self/fd/${fd}`);
      } finally {
        if (!kept) fs.closeSync(fd);
      }
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    } finally {
      found.close();
    }
  }

  readLink(logical: string): string {
    const link = this.inspect(logical, false, (d, name) => fs.readlinkSync(at(d, name)));
    if (link === null) throw refuse(`ENOENT: no such file or directory, readlink '${logical}'`, 'ENOENT');
    return link;
  }

  writeFileAtomic(logical: string, content: string | Uint8Array, options: WriteOptions): void {
    this.forWrite(logical, (dir, name) => {
      const existing = fs.lstatSync(at(dir, name), { throwIfNoEntry: false });
      if (existing && !existing.isFile()) throw refuse(`refusing to replace ${logical}: it is not a regular file`, 'EEXIST');
      const temp = path.basename(tempName(`/${name}`));
      const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
      const fd = fs.openSync(at(dir, temp), flags, 0o600);
      try {
        try {
          const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
          for (let offset = 0; offset < data.length; ) offset += fs.writeSync(fd, data, offset);
          fs.fchownSync(fd, options.uid, options.gid);
          fs.fchmodSync(fd, options.mode);
          if (options.durable ?? true) fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(at(dir, temp), at(dir, name));
      } catch (error) {
        fs.rmSync(at(dir, temp), { force: true });
        throw error;
      }
      if (options.durable ?? true) fs.fsyncSync(dir);
    });
  }

  mkdir(logical: string, mode: number): void {
    this.changedDirs();
    this.forWrite(logical, (dir, name) => {
      // Created private, then given its mode through the descriptor: mkdir(2) applies the umask,
      // and a chmod by path could be sent elsewhere by a link swapped in between.
      fs.mkdirSync(at(dir, name), { mode: 0o700 });
      const fd = fs.openSync(at(dir, name), DIR_FLAGS);
      try {
        fs.fchmodSync(fd, mode);
      } finally {
        fs.closeSync(fd);
      }
      fs.fsyncSync(dir);
    });
  }

  /** Opens an existing entry without following a link (ELOOP for one) to change it through the descriptor. */
  private throughDescriptor(logical: string, what: string, act: (fd: number) => void): void {
    this.changedDirs();
    this.forWrite(logical, (dir, name) => {
      let fd: number;
      try {
        fd = fs.openSync(at(dir, name), ENTRY_FLAGS);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw refuse(`refusing to ${what} through a symlink: ${logical}`, 'ELOOP');
        throw error;
      }
      try {
        act(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  chmod(logical: string, mode: number): void {
    this.throughDescriptor(logical, 'chmod', (fd) => fs.fchmodSync(fd, mode));
  }

  chown(logical: string, uid: number, gid: number): void {
    this.throughDescriptor(logical, 'chown', (fd) => fs.fchownSync(fd, uid, gid));
  }

  symlink(target: string, logical: string): void {
    this.changedDirs();
    this.forWrite(logical, (dir, name) => {
      const existing = fs.lstatSync(at(dir, name), { throwIfNoEntry: false });
      if (existing && !existing.isSymbolicLink()) throw refuse(`refusing to replace ${logical} with a symlink: it is not a symlink`, 'EEXIST');
      const temp = path.basename(tempName(`/${name}`));
      fs.symlinkSync(target, at(dir, temp));
      try {
        fs.renameSync(at(dir, temp), at(dir, name));
      } catch (error) {
        fs.rmSync(at(dir, temp), { force: true });
        throw error;
      }
      fs.fsyncSync(dir);
    });
  }

  remove(logical: string): void {
    this.changedDirs();
    this.forWrite(logical, (dir, name) => {
      if (fs.lstatSync(at(dir, name)).isDirectory()) throw refuse(`refusing to remove ${logical}: it is a directory`, 'EISDIR');
      fs.unlinkSync(at(dir, name));
      fs.fsyncSync(dir);
    });
  }

  removeDir(logical: string): void {
    this.changedDirs();
    this.forWrite(logical, (dir, name) => {
      fs.rmdirSync(at(dir, name));
      fs.fsyncSync(dir);
    });
  }

  async run(command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ProcessResult> {
    const file = findExecutable(command);
    if (file === null) return notFound(command, args);
    return runProgram(file, args, { timeoutMs: options.timeoutMs ?? 60_000 });
  }

  /**
   * Copies a file beside itself under a name no consumer reads and no other file has: created
   * with O_EXCL, so a backup never replaces anything, not even an earlier backup of the same second.
   */
  backup(logical: string): string {
    return this.forWrite(logical, (dir, name, shown) => {
      const source = fs.openSync(at(dir, name), ENTRY_FLAGS);
      let content: Buffer;
      let stat: fs.Stats;
      try {
        stat = fs.fstatSync(source);
        content = readOpenFile(source, shown, MAX_BACKUP_BYTES);
      } finally {
        fs.closeSync(source);
      }
      const now = new Date();
      for (let attempt = 0; ; attempt++) {
        const suffix = backupSuffix(now, attempt);
        let fd: number;
        try {
          fd = fs.openSync(at(dir, name + suffix), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 1000) continue;
          throw error;
        }
        try {
          for (let offset = 0; offset < content.length; ) offset += fs.writeSync(fd, content, offset);
          fs.fchownSync(fd, stat.uid, stat.gid);
          fs.fchmodSync(fd, 0o600);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fs.fsyncSync(dir);
        return logical + suffix;
      }
    });
  }

  removeFile(logical: string): void {
    this.forWrite(logical, (dir, name) => {
      if (!fs.lstatSync(at(dir, name)).isFile()) throw refuse(`refusing to remove ${logical}: it is not a regular file`, 'EEXIST');
      fs.unlinkSync(at(dir, name));
      fs.fsyncSync(dir);
    });
  }

  readSysctl(key: string): string {
    if (!this.live) throw new Error('the running kernel is not read under --root');
    const fd = fs.openSync(sysctlPath(key), ENTRY_FLAGS);
    try {
      return readOpenFile(fd, sysctlPath(key), 64 * 1024).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  }

  sysctlUnwritable(key: string): string | null {
    if (!this.live) return 'the running kernel is not changed under --root';
    try {
      fs.accessSync(sysctlPath(key), fs.constants.W_OK);
      return null;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EROFS') return `${sysctlPath(key)} is on a read-only file system (a container, or /proc/sys mounted read-only)`;
      return `${sysctlPath(key)} cannot be written: ${code ?? String(error)}`;
    }
  }

  async runSysctl(args: string[]): Promise<ProcessResult> {
    const file = findExecutable('sysctl');
    if (file === null) return notFound('sysctl', args, ' (install procps)');
    return runProgram(file, args, { timeoutMs: 30_000 });
  }

  async k3sVersion(): Promise<ProcessResult | null> {
    if (!this.live) return null;
    // Before K3s is installed (the usual case on the boot path) nothing is started and execa is not loaded.
    const file = findExecutable('k3s');
    if (file === null) return null;
    // The same binary as when its output was remembered: nothing is started either.
    const id = binaryIdentity(file);
    const remembered = id === null ? null : recall(this.readState(K3S_VERSION_MEMO), id);
    if (remembered !== null) return { command: `${file} --version`, exitCode: 0, stdout: remembered, stderr: '', ended: 'exit', why: 'exited 0' };
    const result = await runProgram(file, ['--version'], { timeoutMs: 30_000 });
    if (result.ended === 'not-started') return null;
    if (id !== null && result.ended === 'exit' && result.exitCode === 0) this.writeState(K3S_VERSION_MEMO, memoText(id, result.stdout));
    return result;
  }

  /**
   * A file of k3s-hostprep's state directory, only when nobody but root can have written it (the
   * trusted read: owned by root, writable by nobody else, on its path and where it leads). null
   * otherwise, or when it is missing.
   */
  readState(logical: string, maxBytes = MAX_STATE_BYTES): string | null {
    if (this.euid !== 0) return null;
    try {
      return this.readText(logical, { trust: true, maxBytes });
    } catch {
      return null;
    }
  }

  /**
   * Writes a state file as root, 0600, atomically but not synced (WriteOptions.durable); a state
   * file is an optimisation, so a failure is not one of the run's.
   */
  writeState(logical: string, text: string): void {
    if (this.euid !== 0) return;
    try {
      const dir = path.posix.dirname(logical);
      if (this.lstat(dir) === null) this.mkdir(dir, 0o700);
      this.writeFileAtomic(logical, text, { mode: 0o600, uid: 0, gid: 0, durable: false });
    } catch {
      /* asked again next time */
    }
  }

  /**
   * Distribution, kernel and hostname. The boot path reads them directly: /etc/os-release (else
   * /usr/lib/os-release, as os-release(5) says), uname(2) and gethostname(2) through node:os.
   * systeminformation's osInfo() would take ~130 ms: it starts shells (cat, hostname -f) and
   * probes UEFI and machine ids the report never shows. It is loaded only for a live host
   * without os-release, where its fallbacks (/etc/*-release, lsb-release) earn their cost.
   */
  async facts(): Promise<HostFacts> {
    const facts = { trust: false, maxBytes: 64 * 1024 };
    const osRelease = this.readText('/etc/os-release', facts) ?? this.readText('/usr/lib/os-release', facts);
    const named = osRelease === null ? null : distributionName(parseOsRelease(osRelease));
    if (!this.live) {
      const hostname = this.readText('/etc/hostname', facts)?.trim();
      return { distribution: named || 'unknown', kernel: 'not running (offline root)', hostname: hostname || 'unknown' };
    }
    if (named) return { distribution: named, kernel: os.release(), hostname: os.hostname() };
    const si = await import('systeminformation');
    const info = await si.osInfo();
    return {
      distribution: [info.distro, info.release].filter(Boolean).join(' ') || 'unknown',
      kernel: info.kernel || os.release(),
      hostname: info.hostname || os.hostname(),
    };
  }
}

function notFound(command: string, args: string[], hint = ''): ProcessResult {
  const why = `${command} was not found as a root-owned executable in ${'/usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin or /bin'}${hint}`;
  return { command: [command, ...args].join(' '), exitCode: 127, stdout: '', stderr: why, ended: 'not-started', why: `could not be started: ${why}` };
}
