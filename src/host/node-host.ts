import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DirectoryWatch, Host, HostFacts, ProcessResult, WriteOptions } from './host.js';
import { sysctlPath } from './host.js';
import { resolveInRoot } from './paths.js';
import { distributionName, parseOsRelease } from './os-release.js';
import { K3S_VERSION_MEMO, identityOf, memoText, recall, type BinaryIdentity } from './k3s-version-memo.js';

function missing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The file a command name resolves to through PATH (or the path itself), when it is an executable file. */
export function findExecutable(name: string, searchPath: string = process.env.PATH ?? ''): string | null {
  const dirs = name.includes('/') ? [''] : searchPath.split(':').filter(Boolean);
  for (const dir of dirs) {
    const file = dir === '' ? name : path.join(dir, name);
    try {
      if (fs.statSync(file).isFile()) {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      }
    } catch {
      /* not there, or not executable */
    }
  }
  return null;
}

/** The name a temporary file gets beside its target: hidden, and ending in no suffix that K3s or sysctl read. */
export function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.k3s-hostprep-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
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
  const pattern = new RegExp(`^\\.${escapeRegExp(targetBase)}(\\.k3s-hostprep-backup-\\d{8}T\\d{6}Z)?\\.k3s-hostprep-\\d+-[0-9a-f]{8}\\.tmp$`);
  return pattern.test(name);
}

export function backupSuffix(date: Date): string {
  return `.k3s-hostprep-backup-${date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The real machine, or a root directory holding an image of one. */
export class NodeHost implements Host {
  readonly root: string;
  readonly live: boolean;
  readonly euid: number;

  /** live defaults to whether root is "/"; tests may point a live host's files elsewhere. */
  constructor(root = '/', live?: boolean) {
    this.root = path.resolve(root);
    this.live = live ?? this.root === '/';
    this.euid = process.geteuid?.() ?? 0;
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

  private followed(logical: string): string {
    return resolveInRoot(this.root, logical, true);
  }

  lstat(logical: string): fs.Stats | null {
    try {
      return fs.lstatSync(this.realPath(logical));
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  stat(logical: string): fs.Stats | null {
    try {
      return fs.statSync(this.followed(logical));
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  readText(logical: string): string | null {
    try {
      return fs.readFileSync(this.followed(logical), 'utf8');
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  readBytes(logical: string): Uint8Array | null {
    try {
      return fs.readFileSync(this.followed(logical));
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  readDir(logical: string): string[] | null {
    try {
      return fs.readdirSync(this.followed(logical));
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
  }

  readLink(logical: string): string {
    return fs.readlinkSync(this.realPath(logical));
  }

  writeFileAtomic(logical: string, content: string | Uint8Array, options: WriteOptions): void {
    const target = this.realPath(logical);
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    if (existing && !existing.isFile()) {
      throw Object.assign(new Error(`refusing to replace ${logical}: it is not a regular file`), { code: 'EEXIST' });
    }
    const temp = tempName(target);
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    const fd = fs.openSync(temp, flags, 0o600);
    try {
      try {
        const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
        for (let offset = 0; offset < data.length; ) offset += fs.writeSync(fd, data, offset);
        fs.fchownSync(fd, options.uid, options.gid);
        fs.fchmodSync(fd, options.mode);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
    fsyncDirectory(path.dirname(target));
  }

  mkdir(logical: string, mode: number): void {
    const target = this.realPath(logical);
    fs.mkdirSync(target, { mode });
    // mkdir(2) applies the umask; set the mode we were asked for.
    fs.chmodSync(target, mode);
    fsyncDirectory(path.dirname(target));
  }

  chmod(logical: string, mode: number): void {
    const target = this.realPath(logical);
    if (fs.lstatSync(target).isSymbolicLink()) throw Object.assign(new Error(`refusing to chmod through a symlink: ${logical}`), { code: 'ELOOP' });
    fs.chmodSync(target, mode);
  }

  chown(logical: string, uid: number, gid: number): void {
    fs.lchownSync(this.realPath(logical), uid, gid);
  }

  symlink(target: string, logical: string): void {
    const link = this.realPath(logical);
    const existing = fs.lstatSync(link, { throwIfNoEntry: false });
    if (existing && !existing.isSymbolicLink()) {
      throw Object.assign(new Error(`refusing to replace ${logical} with a symlink: it is not a symlink`), { code: 'EEXIST' });
    }
    const temp = tempName(link);
    fs.symlinkSync(target, temp);
    try {
      fs.renameSync(temp, link);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
    fsyncDirectory(path.dirname(link));
  }

  remove(logical: string): void {
    const target = this.realPath(logical);
    if (fs.lstatSync(target).isDirectory()) throw Object.assign(new Error(`refusing to remove ${logical}: it is a directory`), { code: 'EISDIR' });
    fs.unlinkSync(target);
    fsyncDirectory(path.dirname(target));
  }

  removeDir(logical: string): void {
    const target = this.realPath(logical);
    fs.rmdirSync(target);
    fsyncDirectory(path.dirname(target));
  }

  async run(command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ProcessResult> {
    const { execa } = await import('execa');
    const result = await execa(command, args, { reject: false, stdin: 'ignore', timeout: options.timeoutMs ?? 60_000 });
    const failedToStart = result.exitCode === undefined;
    return {
      command: [command, ...args].join(' '),
      exitCode: result.exitCode ?? 127,
      stdout: String(result.stdout ?? ''),
      stderr: failedToStart ? String(result.shortMessage ?? `${command} could not be started`) : String(result.stderr ?? ''),
    };
  }

  backup(logical: string): string {
    const source = this.realPath(logical);
    const stat = fs.lstatSync(source);
    const suffix = backupSuffix(new Date());
    const content = fs.readFileSync(source);
    const target = source + suffix;
    this.writeFileAtomic(logical + suffix, content, { mode: 0o600, uid: stat.uid, gid: stat.gid });
    if (!fs.existsSync(target)) throw new Error(`backup of ${logical} was not written`);
    return logical + suffix;
  }

  removeFile(logical: string): void {
    const target = this.realPath(logical);
    const stat = fs.lstatSync(target);
    if (!stat.isFile()) throw Object.assign(new Error(`refusing to remove ${logical}: it is not a regular file`), { code: 'EEXIST' });
    fs.unlinkSync(target);
    fsyncDirectory(path.dirname(target));
  }

  readSysctl(key: string): string {
    if (!this.live) throw new Error('the running kernel is not read under --root');
    return fs.readFileSync(sysctlPath(key), 'utf8');
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
    const { execa } = await import('execa');
    const result = await execa('sysctl', args, { reject: false, stdin: 'ignore', timeout: 30_000 });
    const failedToStart = result.exitCode === undefined;
    const notFound = (result as { code?: string }).code === 'ENOENT';
    return {
      command: ['sysctl', ...args].join(' '),
      exitCode: result.exitCode ?? 127,
      stdout: String(result.stdout ?? ''),
      stderr: notFound
        ? 'sysctl was not found on PATH (install procps)'
        : failedToStart
          ? String(result.shortMessage ?? 'sysctl could not be started')
          : String(result.stderr ?? ''),
    };
  }

  async k3sVersion(): Promise<ProcessResult | null> {
    if (!this.live) return null;
    // Before K3s is installed (the usual case on the boot path) nothing is started and execa is not loaded.
    const candidates = ['k3s', '/usr/local/bin/k3s'].map((file) => findExecutable(file)).filter((file): file is string => file !== null);
    if (candidates.length === 0) return null;
    // The same binary as when its output was remembered: nothing is started either.
    const id = binaryIdentity(candidates[0]!);
    const remembered = id === null ? null : recall(this.readTrustedState(K3S_VERSION_MEMO), id);
    if (remembered !== null) return { command: `${candidates[0]} --version`, exitCode: 0, stdout: remembered, stderr: '' };
    const { execa } = await import('execa');
    for (const file of candidates) {
      const result = await execa(file, ['--version'], { reject: false, stdin: 'ignore', timeout: 30_000 });
      if (result.exitCode === undefined) continue; // not found there
      const stdout = String(result.stdout ?? '');
      if (file === candidates[0] && id !== null && result.exitCode === 0) this.rememberState(K3S_VERSION_MEMO, memoText(id, stdout));
      return { command: `${file} --version`, exitCode: result.exitCode, stdout, stderr: String(result.stderr ?? '') };
    }
    return null;
  }

  /**
   * A file of k3s-hostprep's state directory, only when nobody but root can have written it: a
   * regular file (not followed through a symlink) owned by root and writable by nobody else, in
   * directories of root's that nobody else can write. null otherwise, or when it is missing.
   */
  private readTrustedState(logical: string): string | null {
    if (this.euid !== 0) return null;
    try {
      for (let dir = path.posix.dirname(logical); ; dir = path.posix.dirname(dir)) {
        const st = fs.lstatSync(this.realPath(dir));
        if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) return null;
        if (dir === '/') break;
      }
      const fd = fs.openSync(this.realPath(logical), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0 || st.size > 64 * 1024) return null;
        return fs.readFileSync(fd, 'utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return null;
    }
  }

  /** Writes a state file as root, 0600, atomically; a state file is an optimisation, so a failure is not one of the run's. */
  private rememberState(logical: string, text: string): void {
    if (this.euid !== 0) return;
    try {
      const dir = path.posix.dirname(logical);
      if (this.lstat(dir) === null) this.mkdir(dir, 0o700);
      this.writeFileAtomic(logical, text, { mode: 0o600, uid: 0, gid: 0 });
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
    const osRelease = this.readText('/etc/os-release') ?? this.readText('/usr/lib/os-release');
    const named = osRelease === null ? null : distributionName(parseOsRelease(osRelease));
    if (!this.live) {
      const hostname = this.readText('/etc/hostname')?.trim();
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
