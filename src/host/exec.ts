/**
 * The one way k3s-hostprep runs a program: from a fixed, root-owned absolute path, with a safe
 * PATH and nothing else from the caller's environment, always with a timeout, and with a result
 * that says why the process ended (exit code, signal, timeout, or could not start). execa is
 * loaded only when a program is actually run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProcessResult } from './host.js';
import { ENTRY_FLAGS, at, judge, openRoot, walk } from './trusted-fs.js';

/** The PATH a root run gives its children, and the only directories helpers are taken from. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const SYSTEM_DIRS: readonly string[] = SAFE_PATH.split(':');
/** What a run may take unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface RunOptions {
  timeoutMs?: number;
  /** Added to the safe environment (PATH, LC_ALL); nothing else is inherited. */
  env?: Record<string, string>;
}

/**
 * Runs a program and reports how it ended; never throws for a failure of the program. The
 * program is an absolute path (findExecutable gives one): a bare name would be looked up on PATH.
 */
export async function runProgram(file: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const command = [file, ...args].join(' ');
  if (!path.isAbsolute(file)) return notStarted(command, `${file} is not an absolute path`);
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { execa } = await import('execa');
  const result = await execa(file, [...args], {
    reject: false,
    stdin: 'ignore',
    timeout,
    extendEnv: false,
    env: { PATH: SAFE_PATH, LC_ALL: 'C', ...options.env },
    killSignal: 'SIGTERM',
    forceKillAfterDelay: 5_000,
  });
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.timedOut) return { command, exitCode: 124, stdout, stderr, ended: 'timeout', why: `timed out after ${timeout / 1000} s and was stopped` };
  if (result.exitCode === undefined && result.signal)
    return { command, exitCode: 128, stdout, stderr, ended: 'signal', signal: result.signal, why: `killed by ${result.signal}` };
  if (result.exitCode === undefined) return notStarted(command, String(result.shortMessage ?? `${file} could not be started`));
  return { command, exitCode: result.exitCode, stdout, stderr, ended: 'exit', why: `exited ${result.exitCode}` };
}

function notStarted(command: string, why: string): ProcessResult {
  return { command, exitCode: 127, stdout: '', stderr: why, ended: 'not-started', why: `could not be started: ${why}` };
}

/**
 * The program of that name in the system directories (or that absolute path), when it is an
 * executable regular file nobody but root can change, in directories nobody but root can
 * change, following links as the kernel would. null otherwise. A hostile PATH plays no part.
 */
export function findExecutable(name: string, dirs: readonly string[] = SYSTEM_DIRS): string | null {
  const candidates = name.includes('/') ? [name] : dirs.map((d) => path.join(d, name));
  for (const file of candidates) if (path.isAbsolute(file) && trustedExecutable(file)) return file;
  return null;
}

function trustedExecutable(file: string): boolean {
  let root: ReturnType<typeof openRoot> | null = null;
  try {
    root = openRoot('/');
    const found = walk(root.fd, '/', root.untrusted, file, { trust: true, followFinal: true });
    if (found === null) return false;
    try {
      const fd = fs.openSync(at(found.dirFd, found.name), ENTRY_FLAGS);
      try {
        const stat = fs.fstatSync(fd);
        return stat.isFile() && (stat.mode & 0o111) !== 0 && judge(fd, stat).why === null;
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      found.close();
    }
  } catch {
    return false;
  } finally {
    if (root) fs.closeSync(root.fd);
  }
}
