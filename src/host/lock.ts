/**
 * Serialises runs that change a host. The lock is flock(2) on a file, taken with the flock(1)
 * binary from util-linux (Node has no flock): the file is opened here and handed to flock as
 * descriptor 3; a flock lock belongs to the open file description, which this process keeps
 * after flock exits, so the lock is ours until we close the file or die. The kernel drops it
 * when the holder dies in any way (SIGKILL, power loss), so a stale lock cannot exist and no
 * pid has to be trusted; the pid written into the file is only for the message. apply takes it
 * before its first change, having planned without it; an apply with nothing to change (the gate
 * on a converged node) takes none, starts no flock and waits for no one (src/engine.ts).
 *
 * On a live host the lock is /run/k3s-hostprep/apply.lock (tmpfs: gone at boot). Under --root
 * the root directory itself is locked: runs against the same image are serialised, nothing is
 * written into the image, and an image build never waits for the live host or the other way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostError, describeError } from '../errors.js';
import { SAFE_PATH, findExecutable } from './exec.js';
import { DIR_FLAGS, at, judge } from './trusted-fs.js';

export const LOCK_DIR = '/run/k3s-hostprep';
export const LOCK_FILE = `${LOCK_DIR}/apply.lock`;
/** How long apply waits for another run by default; a boot-time run and a manual one may overlap. */
export const DEFAULT_WAIT_SECONDS = 60;

/** flock(1) from the system directories only: neither a hostile nor a restricted PATH decides whether runs are serialised. */
export function findFlock(): string | null {
  return findExecutable('flock');
}

export interface Lock {
  /** What was locked: the lock file, or the root directory under --root. */
  readonly path: string;
  release(): void;
}

export interface LockOptions {
  /** The host's root: "/" for the live host. */
  root: string;
  /** Seconds to wait for another run; 0 fails at once. */
  waitSeconds: number;
  /** For tests: where flock(1) is. */
  flock?: string | null;
}

/**
 * Opens the lock directory, refusing one someone else could tamper with: judged through the
 * descriptor (owner, mode, ACL), and the lock file opened relative to it.
 */
function openLockDir(dir: string): number {
  let fd: number;
  try {
    fd = fs.openSync(dir, DIR_FLAGS);
  } catch (error) {
    throw new HostError(`cannot take the run lock: ${dir} is not a directory (a symlink or a file is in the way): ${describeError(error)}`, { cause: error });
  }
  const why = judge(fd).why;
  if (why !== null) {
    fs.closeSync(fd);
    throw new HostError(`cannot take the run lock: ${dir} ${why}; expected root and no group or world write`);
  }
  return fd;
}

function openLockTarget(root: string): { fd: number; path: string; isFile: boolean } {
  if (path.resolve(root) !== '/') {
    const dir = path.resolve(root);
    return { fd: fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY), path: dir, isFile: false };
  }
  try {
    fs.mkdirSync(LOCK_DIR, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new HostError(`cannot create ${LOCK_DIR}: ${describeError(error)}`, { cause: error });
  }
  const dirFd = openLockDir(LOCK_DIR);
  let fd: number;
  try {
    fd = fs.openSync(
      at(dirFd, path.basename(LOCK_FILE)),
      fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
      0o600,
    );
  } finally {
    fs.closeSync(dirFd);
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new HostError(`cannot take the run lock: ${LOCK_FILE} is not a regular file`);
  }
  return { fd, path: LOCK_FILE, isFile: true };
}

function holderOf(fd: number, isFile: boolean): string {
  if (!isFile) return '';
  try {
    const buffer = Buffer.alloc(200);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, n).toString('utf8').trim();
    const pid = /^pid (\d+)/.exec(text)?.[1];
    return pid ? ` (pid ${pid})` : '';
  } catch {
    return '';
  }
}

/**
 * child_process, loaded only when apply takes the lock. The bundle (dist/main.cjs) is CommonJS
 * run through vm.Script, where import() of a built-in does not work on every Node 20: there
 * require() is used; the ES module build (tests) has no require and uses import().
 */
async function childProcess(): Promise<typeof import('node:child_process')> {
  return typeof require === 'function' ? (require('node:child_process') as typeof import('node:child_process')) : import('node:child_process');
}

/**
 * Takes the run lock, waiting up to waitSeconds; rejects with a HostError (exit 3) when another
 * run keeps it. Async only to load child_process when apply needs it (check starts no process).
 */
export async function acquireRunLock(options: LockOptions): Promise<Lock> {
  const flock = options.flock === undefined ? findFlock() : options.flock;
  if (flock === null) throw new HostError('cannot take the run lock: flock(1) from util-linux was not found');
  let target: { fd: number; path: string; isFile: boolean };
  try {
    target = openLockTarget(options.root);
  } catch (error) {
    if (error instanceof HostError) throw error;
    throw new HostError(`cannot take the run lock: ${describeError(error)}`, { cause: error });
  }
  const wait = options.waitSeconds > 0 ? ['-w', String(options.waitSeconds)] : ['-n'];
  // -E 75: a distinct code for "held by another", so that a failure of flock itself is told apart.
  const { spawnSync } = await childProcess();
  // spawnSync rather than runProgram: the descriptor is handed over as fd 3, and nothing else may run meanwhile.
  const result = spawnSync(flock, ['-x', '-E', '75', ...wait, '3'], {
    stdio: ['ignore', 'ignore', 'pipe', target.fd],
    encoding: 'utf8',
    env: { PATH: SAFE_PATH, LC_ALL: 'C' },
    timeout: (options.waitSeconds + 30) * 1000,
  });
  if (result.status !== 0) {
    const holder = holderOf(target.fd, target.isFile);
    fs.closeSync(target.fd);
    if (result.status === 75) {
      throw new HostError(`another run holds the lock on ${target.path}${holder}; waited ${options.waitSeconds}s (--wait SECONDS to wait longer)`);
    }
    const why = result.error ? describeError(result.error) : `${flock} exited ${result.status ?? result.signal}: ${String(result.stderr ?? '').trim()}`;
    throw new HostError(`cannot take the run lock on ${target.path}: ${why}`);
  }
  if (target.isFile) {
    const text = `pid ${process.pid} since ${new Date().toISOString()}\n`;
    fs.ftruncateSync(target.fd, 0);
    fs.writeSync(target.fd, text, 0);
  }
  let released = false;
  return {
    path: target.path,
    release() {
      if (released) return;
      released = true;
      fs.closeSync(target.fd);
    },
  };
}
