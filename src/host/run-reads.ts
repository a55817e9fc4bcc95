/**
 * A run's view of its host: each read asked again within the run's snapshot (the same path, the
 * same options) is answered with what the first one found, instead of walking and opening the
 * file again. A check asks the same questions many times (the kube-bench rows stat the same
 * files twice and read the same missing kubeconfig eight times; two controls read each managed
 * file), and every answer costs a descriptor walk from the root.
 *
 * Sound for the same reason the run's Snapshot is: the engine makes a new view with each new
 * snapshot (a new run, and after every apply that changed the host), so nothing read before a
 * change is answered after it; and this view forgets everything itself whenever the run writes
 * through it or starts a program, which may write. What is kept is what this run read: every
 * answer was judged (owner, mode, ACL, every directory up to "/") when it was read, in this run.
 * A read that failed is not kept: it is asked again, and fails the same way or succeeds.
 */
import type { Stats } from 'node:fs';
import { type DirectoryWatch, type Host, type HostFacts, HostView, type ProcessResult, type ReadOptions, type WriteOptions } from './host.js';
import { UntrustedPathError } from './trusted-fs.js';

/** The host a run reads through: reads remembered until the run changes the host. */
export class RunReads extends HostView implements Host {
  private readonly answers = new Map<string, unknown>();

  /** The answer to a read, asked of the host the first time only. */
  private remembered<T>(key: string, read: () => T): T {
    if (this.answers.has(key)) return this.answers.get(key) as T;
    // A run changes the host only through this view: the host may remember what it found missing.
    this.host.rememberMissing?.();
    const answer = read();
    this.answers.set(key, answer);
    return answer;
  }

  /** Whatever the run changes (or a program it starts may change) is read afresh after. */
  private changed(): void {
    this.answers.clear();
  }

  realPath(logical: string): string {
    return this.host.realPath(logical);
  }

  lstat(logical: string): Stats | null {
    return this.remembered(`lstat\0${logical}`, () => this.host.lstat(logical));
  }

  stat(logical: string): Stats | null {
    return this.remembered(`stat\0${logical}`, () => this.host.stat(logical));
  }

  /** Bytes are not kept: a caller may change the buffer it gets. */
  readFile(logical: string, options?: ReadOptions): Uint8Array | null {
    return this.host.readFile(logical, options);
  }

  /**
   * A file asked for without trust (compared, not obeyed: a managed file) is most often asked
   * for with trust too (read as instruction) in the same run: it is read trusted first, which
   * returns the same text when it succeeds and judges more, and the untrusted read is made only
   * when that one refuses the file.
   */
  readText(logical: string, options: ReadOptions = {}): string | null {
    const trusted = `text\0${logical}\0${options.maxBytes ?? ''}`;
    if (options.trust !== false || this.answers.has(trusted)) return this.remembered(trusted, () => this.host.readText(logical, { ...options, trust: true }));
    const untrusted = `${trusted}\0untrusted`;
    if (!this.answers.has(untrusted)) {
      try {
        return this.remembered(trusted, () => this.host.readText(logical, { ...options, trust: true }));
      } catch (error) {
        if (!(error instanceof UntrustedPathError)) throw error;
      }
    }
    return this.remembered(untrusted, () => this.host.readText(logical, options));
  }

  readBytes(logical: string, options?: ReadOptions): Uint8Array | null {
    return this.host.readBytes(logical, options);
  }

  untrusted(logical: string): string | null {
    return this.remembered(`untrusted\0${logical}`, () => this.host.untrusted(logical));
  }

  /** A copy each time: callers sort what they get. */
  readDir(logical: string): string[] | null {
    return this.remembered(`dir\0${logical}`, () => this.host.readDir(logical))?.slice() ?? null;
  }

  readLink(logical: string): string {
    return this.remembered(`link\0${logical}`, () => this.host.readLink(logical));
  }

  writeFileAtomic(logical: string, content: string | Uint8Array, options: WriteOptions): void {
    this.changed();
    this.host.writeFileAtomic(logical, content, options);
  }

  mkdir(logical: string, mode: number): void {
    this.changed();
    this.host.mkdir(logical, mode);
  }

  chmod(logical: string, mode: number): void {
    this.changed();
    this.host.chmod(logical, mode);
  }

  chown(logical: string, uid: number, gid: number): void {
    this.changed();
    this.host.chown(logical, uid, gid);
  }

  symlink(target: string, logical: string): void {
    this.changed();
    this.host.symlink(target, logical);
  }

  remove(logical: string): void {
    this.changed();
    this.host.remove(logical);
  }

  removeDir(logical: string): void {
    this.changed();
    this.host.removeDir(logical);
  }

  backup(logical: string): string {
    this.changed();
    return this.host.backup(logical);
  }

  removeFile(logical: string): void {
    this.changed();
    this.host.removeFile(logical);
  }

  /** The running kernel's values are read each time they are asked for. */
  readSysctl(key: string): string {
    return this.host.readSysctl(key);
  }

  sysctlUnwritable(key: string): string | null {
    return this.host.sysctlUnwritable(key);
  }

  run(command: string, args: string[], options?: { timeoutMs?: number }): Promise<ProcessResult> {
    this.changed();
    return this.host.run(command, args, options).finally(() => this.changed());
  }

  runSysctl(args: string[]): Promise<ProcessResult> {
    this.changed();
    return this.host.runSysctl(args).finally(() => this.changed());
  }

  /** May remember the version in k3s-hostprep's state directory. */
  k3sVersion(): Promise<ProcessResult | null> {
    this.changed();
    return this.host.k3sVersion().finally(() => this.changed());
  }

  facts(): Promise<HostFacts> {
    return this.host.facts();
  }

  watchDirectory(logical: string, onChange: (name: string | null) => void, onError: (error: Error) => void): DirectoryWatch {
    return this.host.watchDirectory(logical, onChange, onError);
  }
}

/** The view a run reads through: a fresh one over the host itself, never a view of a view. */
export function runReads(host: Host): RunReads {
  return new RunReads(host instanceof RunReads ? host.host : host);
}
