/**
 * The last run of `check` or `apply`, replayed while everything it learnt from the machine still
 * holds: its output and exit code, given again without judging anything again.
 *
 * A converged node asks the same question at every boot (the gate runs apply before K3s) and gets
 * the same answer from the same files: what takes the time is not reading them but judging them,
 * a hundred and fifty rows of kube-bench's benchmark in a JavaScript engine that has just started.
 * So a run that read only what can be checked again cheaply (recording-host.ts: paths through
 * signature.ts, kernel parameters by value, the kernel release and host name), and that changed
 * nothing, leaves its output and those facts in k3s-hostprep's state directory, as make keeps a
 * target for its inputs' times and git's index a file for its stat data. The next run with the
 * same command line (and the same build, Node, user, directory, INSTALL_K3S_VERSION and journal
 * stream) checks every fact: lstat of each path, each kernel value read again, and prints the
 * remembered output only when all hold. Anything different, and the command runs in full.
 *
 * Only root's runs are remembered and replayed, only from a file nobody but root can have
 * written (the host's trusted read of a state file), only for the running system, and never
 * for a run that writes a file besides its output (--junit, metrics: the metrics file carries
 * the time of the run) or starts a program. It is an optimisation: the state file may be removed
 * at any time, and a full run is always the same run.
 */
import type { Output } from '../host/fd-output.js';
import type { Host } from '../host/host.js';
import { journalStream } from '../host/journal-stream.js';
import { type Learnt, stillHolds } from './recording-host.js';

export { stillHolds };

/** The commands whose runs are remembered. */
export const REPLAYED = ['check', 'apply'] as const;
export type Replayed = (typeof REPLAYED)[number];

const STATE_DIR = '/var/lib/k3s-hostprep';

/**
 * How many runs of each command are kept, one per command line: a node runs a few (the boot
 * unit's `apply`, a configuration tool's `apply --json`, an operator's `check`), and each is
 * replayed from its own file instead of replacing the others'. Past this many, the one written
 * longest ago goes.
 */
export const KEPT_RUNS = 4;

/** FNV-1a (32 bits): a file name for a command line (the file holds the whole key, so a collision is only a full run). */
function nameOf(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Where the run of a command line (its replay key) is kept. */
export function lastRunFile(command: Replayed, key: string): string {
  return `${STATE_DIR}/last-${command}-${nameOf(key)}.json`;
}

/** Whether a name in the state directory is a kept run of a command. */
export function isLastRunName(command: Replayed, name: string): boolean {
  return new RegExp(`^last-${command}-[0-9a-f]{8}\\.json$`).test(name);
}

/** The largest remembered run read back (a report and the facts: some 70 KiB for a server). */
export const MAX_LAST_RUN_BYTES = 512 * 1024;

declare const K3S_HOSTPREP_BUILD: string | undefined;

/**
 * The build this program is: a value the bundle gets when it is built (scripts/bundle.mjs), so a
 * run remembered by one build is never replayed by another. null when running unbundled (the
 * compiled sources, as the tests do), which neither remembers nor replays unless given a build.
 */
export function buildId(): string | null {
  return typeof K3S_HOSTPREP_BUILD === 'string' ? K3S_HOSTPREP_BUILD : null;
}

/** Everything besides the machine that a run's output depends on. */
export function replayKey(argv: readonly string[], build: string): string {
  return JSON.stringify({
    build,
    node: process.version,
    euid: process.geteuid?.() ?? -1,
    cwd: process.cwd(),
    argv,
    installK3sVersion: process.env.INSTALL_K3S_VERSION ?? null,
    journal: journalStream(),
  });
}

export interface LastRun extends Learnt {
  key: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The state file's text. */
export function lastRunText(run: LastRun): string {
  return `${JSON.stringify(run)}\n`;
}

function parse(text: string): LastRun | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const v = value as Partial<LastRun> | null;
  if (typeof v !== 'object' || v === null) return null;
  const pairs = (x: unknown) => Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string');
  if (typeof v.key !== 'string' || typeof v.stdout !== 'string' || typeof v.stderr !== 'string' || !Number.isInteger(v.exitCode)) return null;
  if (!pairs(v.entries) || !pairs(v.sysctls)) return null;
  const facts = v.facts as LastRun['facts'] | undefined;
  if (facts !== null && (typeof facts?.kernel !== 'string' || typeof facts.hostname !== 'string')) return null;
  return v as LastRun;
}

/**
 * Replays the last run of this command line when everything it learnt still holds: writes its
 * output and returns its exit code. null when there is none to replay; the caller runs the command.
 */
export function replayLastRun(
  argv: readonly string[],
  out: Output,
  err: Output,
  host: Pick<Host, 'readState' | 'readSysctl' | 'euid' | 'live' | 'root'>,
  build: string | null = buildId(),
  trace: Output | null = null,
): number | null {
  const command = argv[0] as Replayed;
  // Runs that are never remembered (an offline root, a JUnit file to write) are not looked up.
  if (
    build === null ||
    !REPLAYED.includes(command) ||
    argv.some((a) => a === '--root' || a.startsWith('--root=') || a === '--junit' || a.startsWith('--junit=')) ||
    host.euid !== 0 ||
    !host.live ||
    host.root !== '/' ||
    !host.readState
  )
    return null;
  let run: LastRun | null;
  try {
    const key = replayKey(argv, build);
    const text = host.readState(lastRunFile(command, key), MAX_LAST_RUN_BYTES);
    run = text === null ? null : parse(text);
    if (run === null || run.key !== key) {
      trace?.write(`replay: ${run === null ? 'no last run' : 'another command line or build'}\n`);
      return null;
    }
    const why = stillHolds(run, host);
    if (why !== null) {
      trace?.write(`replay: changed since the last run: ${why}\n`);
      return null;
    }
  } catch (error) {
    // A replay is an optimisation: whatever it could not tell (a working directory gone, an
    // unreadable path), the command runs in full and says so itself.
    trace?.write(`replay: ${(error as Error).message}\n`);
    return null;
  }
  trace?.write('replay: nothing changed since the last run\n');
  out.write(run.stdout);
  if (run.stderr !== '') err.write(run.stderr);
  return run.exitCode;
}

/**
 * Keeps a run that can be replayed (when it fits the bound it is read back with), in its command
 * line's file; then, past KEPT_RUNS files for the command, removes the ones written longest ago.
 * A failure is silent: the state files are an optimisation.
 */
export function keepLastRun(host: Host, command: Replayed, run: LastRun): void {
  const text = lastRunText(run);
  if (Buffer.byteLength(text) > MAX_LAST_RUN_BYTES || !host.writeState) return;
  host.writeState(lastRunFile(command, run.key), text);
  try {
    const names = host.readDir(STATE_DIR) ?? [];
    // The one file a command had before runs were kept per line is read no more.
    if (names.includes(`last-${command}.json`)) host.removeFile(`${STATE_DIR}/last-${command}.json`);
    const kept = names
      .filter((name) => isLastRunName(command, name))
      .map((name) => ({ file: `${STATE_DIR}/${name}`, written: host.lstat(`${STATE_DIR}/${name}`)?.mtimeMs ?? 0 }))
      .sort((a, b) => b.written - a.written);
    for (const { file } of kept.slice(KEPT_RUNS)) host.removeFile(file);
  } catch {
    /* the next run that keeps one tries again */
  }
}
