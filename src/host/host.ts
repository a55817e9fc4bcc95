import type { Stats } from 'node:fs';

export interface HostFacts {
  distribution: string;
  kernel: string;
  hostname: string;
}

export interface ProcessResult {
  command: string;
  /** The exit code; 124 after a timeout, 128 after a signal, 127 when it could not start. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** How the process ended (absent only in stand-ins that always exit). */
  ended?: 'exit' | 'signal' | 'timeout' | 'not-started';
  signal?: string;
  /** The same in words: "exited 1", "killed by SIGKILL", "timed out after 30 s ...". */
  why?: string;
}

export interface ReadOptions {
  /** Refuse a file larger than this (default 4 MiB). */
  maxBytes?: number;
  /**
   * Refuse (throw an UntrustedPathError) a file that someone other than root could have
   * changed, or that lies under such a directory, on its written or its resolved path.
   * Default true: what a root run reads is instruction. Facts (os-release) pass false.
   */
  trust?: boolean;
}

export interface WriteOptions {
  mode: number;
  uid: number;
  gid: number;
  /**
   * Default true: the file and its directory are synced (fsync) before the write returns. A state
   * file, an optimisation that is read only when it parses and matches, passes false: after a
   * crash it is the old file, the new one, or one that is not believed.
   */
  durable?: boolean;
}

/**
 * Everything that touches the operating system goes through a Host. Paths given to it are the
 * paths the prepared system sees ("/etc/sysctl.d/90-kubelet.conf"); the host maps them under
 * its root. File operations are synchronous: they are few and small, and a run is sequential.
 */
/** The largest state file read back (readState); a larger one is not read, so none is written. */
export const MAX_STATE_BYTES = 64 * 1024;

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
  /**
   * The one reader: a regular file's bytes following symlinks (inside the root), or null when
   * there is no file. Opened without blocking and without following a link swapped in during
   * the read; a FIFO, a device or a directory is an error naming it, and so is a file over the
   * size cap. Trusted by default (see ReadOptions.trust).
   */
  readFile(logical: string, options?: ReadOptions): Uint8Array | null;
  /** readFile as UTF-8 text. */
  readText(logical: string, options?: ReadOptions): string | null;
  /** readFile. */
  readBytes(logical: string, options?: ReadOptions): Uint8Array | null;
  /**
   * Why someone other than root could change this path (the file or directory itself, any
   * directory on its way, or any directory a symlink on the way leads through), with the fix;
   * null when only root can. Only what exists is judged.
   */
  untrusted(logical: string): string | null;
  /** Names in a directory, or null when it does not exist. */
  readDir(logical: string): string[] | null;
  /**
   * Optional: for the rest of the current synchronous stretch, directories found missing may be
   * remembered as missing (a run that changes the host only through this host asks for it).
   */
  rememberMissing?(): void;
  /** Where a symlink points, as written. */
  readLink(logical: string): string;
  /**
   * Optional: a file of k3s-hostprep's state directory (/var/lib/k3s-hostprep), only when nobody but
   * root can have written it; null otherwise, when missing, or past maxBytes (default
   * MAX_STATE_BYTES). State files are optimisations.
   */
  readState?(logical: string, maxBytes?: number): string | null;
  /** Optional: writes a state file as root, 0600, atomically, not synced; a failure is silent (it is asked again next time). */
  writeState?(logical: string, text: string): void;

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

/** A host that answers through another (a run's RunReads, a RecordingHost): what it is, is the other's. */
export abstract class HostView {
  constructor(readonly host: Host) {}

  get root(): string {
    return this.host.root;
  }

  get live(): boolean {
    return this.host.live;
  }

  get euid(): number {
    return this.host.euid;
  }
}
