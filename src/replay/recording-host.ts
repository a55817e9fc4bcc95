/**
 * A host that notes everything a run learns from the machine, so that the run can be replayed
 * while all of it still holds (last-run.ts): for every path it reads, lists, stats or judges, the
 * entries of signature.ts for that path and every component on its way; the kernel parameters
 * it reads, by value; the kernel release and host name. Everything else it could be asked makes
 * the run one that is not remembered: a program started (systemctl, kubectl, sysctl: what they
 * print is not a function of files), a path under /proc, /sys or /dev (their times say nothing),
 * whether /proc/sys may be written, a watch, and any change the run makes.
 *
 * A path the run only stat'ed, and of whose stat it looked at nothing but the kind, mode and
 * owner, is kept as an "a" entry: K3s writes some certificates again at every start (kube-bench
 * asks only for their mode and owner), and a node that booted with K3s is then still replayed.
 *
 * Each path's entries are taken before the first read of it and again at the end (finish()):
 * a run during which anything it read changed is not remembered. Nor is one that read a file
 * changed less than RACY_MARGIN_NS before it started, as git's index treats a file as racily
 * clean: a change within the file system's timestamp granularity could leave the same change
 * time behind.
 */
import type { Stats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SYSTEM_DIRS } from '../host/exec.js';
import { type DirectoryWatch, type Host, type HostFacts, HostView, type ProcessResult, type ReadOptions, type WriteOptions } from '../host/host.js';
import { type Entries, attributesOf, changeTimeNs, firstChanged, observePath } from './signature.js';

/** How much older than the run the change time of everything it read must be. */
export const RACY_MARGIN_NS = 1_000_000_000n;

const VOLATILE_TREES = ['/proc', '/sys', '/dev'];

/** What of a stat tells only a path's kind, mode bits and owner (recorded as an "a" entry). */
const ATTRIBUTES = new Set<PropertyKey>([
  'mode',
  'uid',
  'gid',
  'isFile',
  'isDirectory',
  'isSymbolicLink',
  'isFIFO',
  'isSocket',
  'isBlockDevice',
  'isCharacterDevice',
]);

/** What a run learnt from the machine, when all of it can be checked again cheaply. */
export interface Learnt {
  entries: Array<[string, string]>;
  sysctls: Array<[string, string]>;
  facts: { kernel: string; hostname: string } | null;
}

/** Why what a run learnt no longer holds (the first path, kernel value or fact that changed), or null when all of it does. */
export function stillHolds(learnt: Learnt, host: Pick<Host, 'readSysctl'>): string | null {
  const changed = firstChanged(learnt.entries);
  if (changed !== null) return changed;
  for (const [key, value] of learnt.sysctls) {
    let now: string;
    try {
      now = host.readSysctl(key);
    } catch {
      return `${key}: cannot be read`;
    }
    if (now !== value) return `${key}: ${JSON.stringify(value)} -> ${JSON.stringify(now)}`;
  }
  if (learnt.facts !== null && (learnt.facts.kernel !== os.release() || learnt.facts.hostname !== os.hostname())) return 'the kernel release or the host name';
  return null;
}

export class RecordingHost extends HostView implements Host {
  private readonly entries: Entries = new Map();
  /** Each path noted, and where it leads (links followed; null when the walk stopped). */
  private readonly noted = new Map<string, string | null>();
  /**
   * Paths the run stat'ed, by where they lead: true while it looked at nothing but their kind,
   * mode and owner, false once it used anything else of them (their size, times or contents).
   */
  private readonly attributesOnly = new Map<string, boolean>();
  private readonly sysctls = new Map<string, string>();
  private facts_: { kernel: string; hostname: string } | null = null;
  /** Why this run cannot be replayed; null while it can. */
  private why: string | null = null;
  private readonly startNs: bigint;

  constructor(host: Host, now: () => number = Date.now) {
    super(host);
    this.startNs = BigInt(now()) * 1_000_000n;
    if (!host.live || host.root !== '/') this.refuse('not the running system');
  }

  private refuse(why: string): void {
    this.why ??= why;
  }

  /** Notes a path (once) before it is read, stat'ed or judged; returns where it leads. */
  private observe(logical: string): string | null {
    if (this.why !== null) return null;
    if (this.noted.has(logical)) return this.noted.get(logical)!;
    this.noted.set(logical, null);
    const normal = path.posix.normalize(logical);
    if (VOLATILE_TREES.some((t) => normal === t || normal.startsWith(`${t}/`))) {
      this.refuse(`it read ${logical}`);
      return null;
    }
    let resolved: string | null;
    try {
      resolved = observePath(logical, this.entries);
    } catch (error) {
      this.refuse(`${logical} could not be noted: ${(error as Error).message}`);
      return null;
    }
    if (resolved !== null && VOLATILE_TREES.some((t) => resolved === t || resolved.startsWith(`${t}/`))) this.refuse(`it read ${logical} (${resolved})`);
    this.noted.set(logical, resolved);
    return resolved;
  }

  /** Notes a path read, listed or judged: all of its entry counts. */
  private note(logical: string): void {
    const leadsTo = this.observe(logical);
    if (leadsTo !== null) this.attributesOnly.set(leadsTo, false);
  }

  /**
   * Notes a path stat'ed (links followed, or not) and hands out its stat so that what the run
   * looks at is seen: its kind, mode and owner only, and the path's entry is kept as an "a"
   * entry; anything else (size, times, inode), and it is kept in full. A stat not followed
   * through a link is of the link itself, whose entry is kept in full anyway.
   */
  private stated(logical: string, follow: boolean, stat: (logical: string) => Stats | null): Stats | null {
    const leadsTo = this.observe(logical);
    const st = stat(logical);
    const key = leadsTo !== null && (follow || leadsTo === path.posix.normalize(logical)) ? leadsTo : null;
    if (key === null) return st;
    if (st === null) {
      this.attributesOnly.set(key, false);
      return st;
    }
    if (!this.attributesOnly.has(key)) this.attributesOnly.set(key, true);
    const attributesOnly = this.attributesOnly;
    return new Proxy(st, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (ATTRIBUTES.has(property)) return typeof value === 'function' ? value.bind(target) : value;
        attributesOnly.set(key, false);
        return value;
      },
    });
  }

  /**
   * What the run learnt, or why it cannot be replayed: something it read changed during the run,
   * or had changed too shortly before it, or it was asked something that cannot be checked again.
   */
  finish(): Learnt | { why: string } {
    if (this.why !== null) return { why: this.why };
    const changed = firstChanged(this.entries);
    if (changed !== null) return { why: `changed during the run: ${changed}` };
    // Compared in full above; kept as narrow as what the run used of them. An "a" entry compares
    // mode and owner themselves, not times: it has no racy window.
    const entries = [...this.entries].map(([file, entry]): [string, string] => [file, this.attributesOnly.get(file) === true ? attributesOf(entry) : entry]);
    for (const [file, entry] of entries) {
      const ctime = changeTimeNs(entry);
      if (ctime !== null && ctime > this.startNs - RACY_MARGIN_NS) return { why: `changed too recently to be told apart from a later change: ${file}` };
    }
    return { entries, sysctls: [...this.sysctls], facts: this.facts_ };
  }

  realPath(logical: string): string {
    return this.host.realPath(logical);
  }

  lstat(logical: string): Stats | null {
    return this.stated(logical, false, (p) => this.host.lstat(p));
  }

  stat(logical: string): Stats | null {
    return this.stated(logical, true, (p) => this.host.stat(p));
  }

  readFile(logical: string, options?: ReadOptions): Uint8Array | null {
    this.note(logical);
    return this.host.readFile(logical, options);
  }

  readText(logical: string, options?: ReadOptions): string | null {
    this.note(logical);
    return this.host.readText(logical, options);
  }

  readBytes(logical: string, options?: ReadOptions): Uint8Array | null {
    this.note(logical);
    return this.host.readBytes(logical, options);
  }

  untrusted(logical: string): string | null {
    this.note(logical);
    return this.host.untrusted(logical);
  }

  readDir(logical: string): string[] | null {
    this.note(logical);
    return this.host.readDir(logical);
  }

  rememberMissing(): void {
    this.host.rememberMissing?.();
  }

  readLink(logical: string): string {
    this.note(logical);
    return this.host.readLink(logical);
  }

  // State files are optimisations: what they hold never changes what a run reports.
  readState(logical: string, maxBytes?: number): string | null {
    return this.host.readState?.(logical, maxBytes) ?? null;
  }

  writeState(logical: string, text: string): void {
    this.host.writeState?.(logical, text);
  }

  writeFileAtomic(logical: string, content: string | Uint8Array, options: WriteOptions): void {
    this.refuse('it changed the host');
    this.host.writeFileAtomic(logical, content, options);
  }

  mkdir(logical: string, mode: number): void {
    this.refuse('it changed the host');
    this.host.mkdir(logical, mode);
  }

  chmod(logical: string, mode: number): void {
    this.refuse('it changed the host');
    this.host.chmod(logical, mode);
  }

  chown(logical: string, uid: number, gid: number): void {
    this.refuse('it changed the host');
    this.host.chown(logical, uid, gid);
  }

  symlink(target: string, logical: string): void {
    this.refuse('it changed the host');
    this.host.symlink(target, logical);
  }

  remove(logical: string): void {
    this.refuse('it changed the host');
    this.host.remove(logical);
  }

  removeDir(logical: string): void {
    this.refuse('it changed the host');
    this.host.removeDir(logical);
  }

  backup(logical: string): string {
    this.refuse('it changed the host');
    return this.host.backup(logical);
  }

  removeFile(logical: string): void {
    this.refuse('it changed the host');
    this.host.removeFile(logical);
  }

  readSysctl(key: string): string {
    const value = this.host.readSysctl(key);
    const had = this.sysctls.get(key);
    if (had === undefined) this.sysctls.set(key, value);
    else if (had !== value) this.refuse(`the kernel's ${key} changed during the run`);
    return value;
  }

  sysctlUnwritable(key: string): string | null {
    this.refuse('it asked whether /proc/sys may be written');
    return this.host.sysctlUnwritable(key);
  }

  run(command: string, args: string[], options?: { timeoutMs?: number }): Promise<ProcessResult> {
    this.refuse(`it ran ${command}`);
    return this.host.run(command, args, options);
  }

  runSysctl(args: string[]): Promise<ProcessResult> {
    this.refuse('it ran sysctl');
    return this.host.runSysctl(args);
  }

  /**
   * The K3s binary is taken from the first system directory holding a trusted one, and what it
   * prints is remembered for its identity (k3s-version-memo.ts): every candidate is noted, so that
   * the same binary is found (one put in another system directory later only costs a full run).
   */
  k3sVersion(): Promise<ProcessResult | null> {
    for (const dir of SYSTEM_DIRS) this.note(path.posix.join(dir, 'k3s'));
    return this.host.k3sVersion();
  }

  async facts(): Promise<HostFacts> {
    this.note('/etc/os-release');
    this.note('/usr/lib/os-release');
    const facts = await this.host.facts();
    // From os-release, uname(2) and gethostname(2); anything else (systeminformation's guesses) is not checked again.
    if (facts.kernel !== os.release() || facts.hostname !== os.hostname()) this.refuse('the facts did not come from os-release, uname and the host name');
    this.facts_ = { kernel: facts.kernel, hostname: facts.hostname };
    return facts;
  }

  watchDirectory(logical: string, onChange: (name: string | null) => void, onError: (error: Error) => void): DirectoryWatch {
    this.refuse('it watched a directory');
    return this.host.watchDirectory(logical, onChange, onError);
  }
}
