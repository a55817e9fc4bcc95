import type { Stats } from 'node:fs';

export interface HostFacts {
  distribution: string;
  kernel: string;
  hostname: string;
}

export interface ProcessResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface WriteOptions {
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Everything that touches the operating system goes through a Host. Paths given to it are the
 * paths the prepared system sees ("/etc/sysctl.d/90-kubelet.conf"); the host maps them under
 * its root. File operations are synchronous: they are few and small, and a run is sequential.
 */
export interface Host {
  /** The directory every path lives under: "/" on a live host. */
  readonly root: string;
  /** Whether the running kernel belongs to the prepared system (false under --root). */
  readonly live: boolean;
  /** Effective user id of this process. */
  readonly euid: number;

  /** The path on this machine for a path of the prepared system; symlinks are not followed on the last part. */
  realPath(logical: string): string;
  /** lstat, or null when nothing is there. */
  lstat(logical: string): Stats | null;
  /** stat following symlinks (inside the root), or null when nothing is there. */
  stat(logical: string): Stats | null;
  /** The file's text following symlinks (inside the root), or null when there is no file. */
  readText(logical: string): string | null;
  /** The file's bytes following symlinks (inside the root), or null when there is no file. */
  readBytes(logical: string): Uint8Array | null;
  /** Names in a directory, or null when it does not exist. */
  readDir(logical: string): string[] | null;
  /** Where a symlink points, as written. */
  readLink(logical: string): string;

  /** Atomic replace: temporary file in the same directory, fsync, rename, fsync of the directory. */
  writeFileAtomic(logical: string, content: string | Uint8Array, options: WriteOptions): void;
  mkdir(logical: string, mode: number): void;
  chmod(logical: string, mode: number): void;
  chown(logical: string, uid: number, gid: number): void;
  /** Atomic symlink: made under a temporary name beside the link, then renamed over it. */
  symlink(target: string, logical: string): void;
  /** Removes a file or a symlink (never a directory, never following the last component). */
  remove(logical: string): void;
  /** Removes an empty directory. */
  removeDir(logical: string): void;
  /** Copies a file beside itself under a name no consumer reads; returns the logical backup path. */
  backup(logical: string): string;
  /** Removes a regular file (a leftover temporary file); refuses anything else, never follows a symlink. */
  removeFile(logical: string): void;

  /** The raw text of /proc/sys/<key with dots as slashes>. Throws when it cannot be read. */
  readSysctl(key: string): string;
  /** Why the running kernel's value of a key cannot be written (read-only /proc/sys, as in a container), or null. */
  sysctlUnwritable(key: string): string | null;
  /** Runs a program of this machine (systemctl, kubectl); never throws for a non-zero exit. */
  run(command: string, args: string[], options?: { timeoutMs?: number }): Promise<ProcessResult>;
  /** Runs the sysctl binary. */
  runSysctl(args: string[]): Promise<ProcessResult>;
  /**
   * Runs `k3s --version` when K3s is installed on the running system; null when it is not, or
   * under --root (an image's binary is never executed).
   */
  k3sVersion(): Promise<ProcessResult | null>;
  /** Distribution, kernel and hostname of the prepared system. */
  facts(): Promise<HostFacts>;
  /**
   * Watches a directory's entries (inotify): onChange gets the name of the entry that changed, or
   * null when the kernel did not say; onError once when the watch broke (the directory went away).
   */
  watchDirectory(logical: string, onChange: (name: string | null) => void, onError: (error: Error) => void): DirectoryWatch;
}

export interface DirectoryWatch {
  close(): void;
}

export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}
