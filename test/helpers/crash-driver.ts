/**
 * Runs inside a sandbox's private mount namespace (see crash.ts): many trials of apply killed
 * with SIGKILL, each followed by a check of every target file and an apply that must converge.
 * Prints one JSON object (CrashFigures) on standard output.
 *
 * Kill moments come from two sources, reported apart:
 *  - "syscall": strace stops apply at the entry of its n-th file-changing system call (write,
 *    fsync, rename, mkdir, chmod, chown, unlink, ...) and delivers SIGKILL there, so the call
 *    never runs. The calls of a full run from the same starting state are listed first (one
 *    traced run per state), and the trials walk through that list, so every boundary between two
 *    changes of the host is a kill point, not just the ones a timer happens to hit.
 *  - "delay": a timer sends SIGKILL after a delay drawn uniformly from [0, duration of a full run].
 *    Most of these land while Node starts, before any change: they show the honest spread of a
 *    random kill, and still prove that a run killed anywhere leaves nothing behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HOSTILE } from './sandbox.js';

export interface CrashOptions {
  trials: number;
  seed: number;
  cli: string;
  node: string;
  strace: string;
  /** Directory holding config-a.yaml and config-b.yaml. */
  dir: string;
  /** Share of trials killed by a timer instead of at a system call. */
  delayShare: number;
}

export interface TrialRecord {
  trial: number;
  scenario: string;
  kind: 'syscall' | 'delay';
  point: string;
  killed: boolean;
  /** Per target file after the kill: absent | old | new | torn. */
  states: Record<string, 'absent' | 'old' | 'new' | 'torn' | 'lost'>;
  tempsLeft: number;
  convergeExit: number;
  converged: boolean;
  problems: string[];
}

export interface CrashFigures {
  seed: number;
  trials: number;
  killed: number;
  killedAtSyscall: number;
  killedByDelay: number;
  survived: number;
  tornFiles: number;
  filesLost: number;
  tempsLeftByKills: number;
  tempsAfterConverge: number;
  killPoints: number;
  killPointsHit: number;
  fileStates: Record<string, number>;
  seconds: number;
  failures: TrialRecord[];
}

/**
 * The system calls of apply's main thread that change something: writes, fsync, rename, mkdir,
 * chmod, chown, unlink, and clone (the start of flock, sysctl and other helpers). strace traces
 * node alone (no -f): its helpers are not counted and never killed, so the n-th call is the same
 * call in every run from the same starting state (up to the odd extra eventfd write).
 */
const MUTATING = [
  'write',
  'pwrite64',
  'writev',
  'fsync',
  'fdatasync',
  'rename',
  'renameat',
  'renameat2',
  'mkdir',
  'mkdirat',
  'chmod',
  'fchmod',
  'fchmodat',
  'chown',
  'fchown',
  'lchown',
  'fchownat',
  'unlink',
  'unlinkat',
  'ftruncate',
  'clone',
  'vfork',
];
const TEMP = /\.k3s-hostprep-\d+-[0-9a-f]{8}\.tmp$/;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function read(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

interface Planned {
  files: Map<string, string>;
  dirs: string[];
}

function plan(o: CrashOptions, config: string): Planned {
  const r = spawnSync(o.node, [o.cli, 'plan', '--json', '--config', config], { encoding: 'utf8' });
  const report = JSON.parse(r.stdout) as { controls: Array<{ changes: Array<{ kind: string; path?: string; after?: string }> }> };
  const files = new Map<string, string>();
  const dirs: string[] = [];
  for (const c of report.controls.flatMap((x) => x.changes)) {
    if (c.kind === 'file') files.set(c.path!, c.after!);
    if (c.kind === 'mkdir') dirs.push(c.path!);
  }
  return { files, dirs };
}

function apply(o: CrashOptions, config: string): { exitCode: number; stdout: string } {
  const r = spawnSync(o.node, [o.cli, 'apply', '--json', '--wait', '10', '--config', config], { encoding: 'utf8' });
  return { exitCode: r.status ?? -1, stdout: r.stdout };
}

const SCENARIOS: Record<string, (targets: string[]) => void> = {
  /** Only the files and one kernel value differ. */
  toggle: () => {},
  /** The six kernel values are hostile again: sysctl has work to do. */
  kernel: () => {
    for (const [k, v] of Object.entries(HOSTILE)) fs.writeFileSync(`/proc/sys/${k.replace(/\./g, '/')}`, `${v}\n`);
  },
  /** K3s' tree is gone: directories and files are created from nothing. */
  fresh: (targets) => {
    SCENARIOS.kernel!(targets);
    fs.rmSync('/var/lib/rancher', { recursive: true, force: true });
  },
  /** A killed run's leftovers and a loosened directory are already there. */
  leftovers: (targets) => {
    for (const t of targets) {
      if (!fs.existsSync(path.dirname(t))) continue;
      fs.writeFileSync(path.join(path.dirname(t), `.${path.basename(t)}.k3s-hostprep-99999-0badc0de.tmp`), 'half a fi');
    }
    if (fs.existsSync('/var/lib/rancher/k3s/server/manifests')) fs.chmodSync('/var/lib/rancher/k3s/server/manifests', 0o755);
  },
};

function tempsUnder(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of new Set(dirs)) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    out.push(...names.filter((n) => TEMP.test(n)).map((n) => path.join(d, n)));
  }
  return out;
}

function traceSequence(o: CrashOptions, config: string): string[] {
  const out = path.join(o.dir, 'trace.txt');
  spawnSync(o.strace, ['-qq', '-o', out, '-e', `trace=${MUTATING.join(',')}`, o.node, o.cli, 'apply', '--json', '--config', config], { stdio: 'ignore' });
  const names: string[] = [];
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const m = /^(?:\d+ +)?([a-z0-9_]+)\(/.exec(line);
    if (m && MUTATING.includes(m[1]!)) names.push(m[1]!);
  }
  return names;
}

/** The kill point for the j-th call of a sequence: that call's name and its occurrence number. */
function point(sequence: string[], j: number): { name: string; when: number } {
  const name = sequence[j]!;
  return { name, when: sequence.slice(0, j + 1).filter((n) => n === name).length };
}

function runKilled(args: string[], delayMs: number | null, bin: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    if (delayMs !== null) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? null : code === 137 ? null : code);
    });
  });
}

export async function crashTrials(o: CrashOptions): Promise<CrashFigures> {
  const started = Date.now();
  const random = rng(o.seed);
  const configs = { a: path.join(o.dir, 'config-a.yaml'), b: path.join(o.dir, 'config-b.yaml') };
  const versions = { a: plan(o, configs.a), b: plan(o, configs.b) };
  const targets = [...new Set([...versions.a.files.keys(), ...versions.b.files.keys()])];
  const targetDirs = targets.map((t) => path.dirname(t));
  let cur: 'a' | 'b' = 'a';
  const t0 = Date.now();
  if (apply(o, configs.a).exitCode !== 0) throw new Error('the first apply did not converge');
  const fullRunMs = Math.max(50, Date.now() - t0);

  const sequences = new Map<string, string[]>();
  const cursor = new Map<string, number>();
  const hit = new Set<string>();
  const figures: CrashFigures = {
    seed: o.seed,
    trials: 0,
    killed: 0,
    killedAtSyscall: 0,
    killedByDelay: 0,
    survived: 0,
    tornFiles: 0,
    filesLost: 0,
    tempsLeftByKills: 0,
    tempsAfterConverge: 0,
    killPoints: 0,
    killPointsHit: 0,
    fileStates: {},
    seconds: 0,
    failures: [],
  };
  const names = Object.keys(SCENARIOS);

  for (let trial = 0; trial < o.trials; trial++) {
    const scenario = names[Math.floor(random() * names.length)]!;
    const next: 'a' | 'b' = cur === 'a' ? 'b' : 'a';
    const kind: 'syscall' | 'delay' = random() < o.delayShare ? 'delay' : 'syscall';
    const key = `${scenario}:${cur}->${next}`;
    if (kind === 'syscall' && !sequences.has(key)) {
      // One traced full run from this starting state lists the kill points; then back to the start.
      SCENARIOS[scenario]!(targets);
      const sequence = traceSequence(o, configs[next]);
      sequences.set(key, sequence);
      cursor.set(key, Math.floor(random() * 1000));
      figures.killPoints += sequence.length;
      if (apply(o, configs[cur]).exitCode !== 0) throw new Error(`could not return to config ${cur}`);
    }
    SCENARIOS[scenario]!(targets);
    const before = new Map(targets.map((t) => [t, read(t)]));

    let pointText: string;
    let code: number | null;
    const cliArgs = [o.cli, 'apply', '--json', '--wait', '10', '--config', configs[next]];
    if (kind === 'syscall') {
      const sequence = sequences.get(key)!;
      // Successive trials of one starting state step through its calls by the golden ratio: spread
      // over the whole run from the first trial on, every call in turn as trials accumulate.
      const k = cursor.get(key)!;
      cursor.set(key, k + 1);
      const j = Math.floor(((k * 0.6180339887) % 1) * sequence.length);
      const p = point(sequence, j);
      pointText = `${key} #${j + 1}/${sequence.length} ${p.name}#${p.when}`;
      hit.add(`${key}#${j}`);
      const set = MUTATING.join(',');
      code = await runKilled(
        ['-qq', '-o', '/dev/null', '-e', `trace=${set}`, '-e', `inject=${p.name}:signal=KILL:when=${p.when}`, o.node, ...cliArgs],
        null,
        o.strace,
      );
    } else {
      const delay = Math.floor(random() * fullRunMs);
      pointText = `${key} after ${delay}ms of ~${fullRunMs}ms`;
      code = await runKilled(cliArgs, delay, o.node);
    }
    const killed = code === null;
    const record: TrialRecord = { trial, scenario, kind, point: pointText, killed, states: {}, tempsLeft: 0, convergeExit: -1, converged: false, problems: [] };

    for (const t of targets) {
      const old = before.get(t) ?? null;
      const wanted = versions[next].files.get(t) ?? null;
      let stat: fs.Stats | undefined;
      try {
        stat = fs.lstatSync(t);
      } catch {
        stat = undefined;
      }
      let state: TrialRecord['states'][string];
      if (!stat) state = old === null ? 'absent' : 'lost';
      else if (!stat.isFile()) state = 'torn';
      else {
        const now = read(t);
        state = now === wanted ? 'new' : now === old ? 'old' : 'torn';
        if (state === 'new' && ((stat.mode & 0o7777) !== 0o600 || stat.uid !== 0))
          record.problems.push(`${t}: new content with mode ${(stat.mode & 0o7777).toString(8)} uid ${stat.uid}`);
      }
      record.states[t] = state;
      figures.fileStates[state] = (figures.fileStates[state] ?? 0) + 1;
      if (state === 'torn') figures.tornFiles++;
      if (state === 'lost') figures.filesLost++;
      if (state === 'torn' || state === 'lost') record.problems.push(`${t} is ${state} after the kill`);
    }
    record.tempsLeft = tempsUnder(targetDirs).filter((p) => !p.includes('-99999-0badc0de')).length;
    figures.tempsLeftByKills += record.tempsLeft;

    const converge = apply(o, configs[next]);
    record.convergeExit = converge.exitCode;
    const temps = tempsUnder(targetDirs);
    figures.tempsAfterConverge += temps.length;
    const filesRight = [...versions[next].files].every(([t, text]) => read(t) === text);
    record.converged = converge.exitCode === 0 && filesRight && temps.length === 0;
    if (!record.converged)
      record.problems.push(`the next apply did not converge: exit ${converge.exitCode}, files right: ${filesRight}, temporary files left: ${temps.join(' ')}`);

    figures.trials++;
    if (killed) {
      figures.killed++;
      if (kind === 'syscall') figures.killedAtSyscall++;
      else figures.killedByDelay++;
    }
    if (record.problems.length === 0) figures.survived++;
    else figures.failures.push(record);
    cur = next;
  }
  figures.killPointsHit = hit.size;
  figures.seconds = Math.round((Date.now() - started) / 100) / 10;
  return figures;
}

// Run as a script inside the namespace: the options arrive as one JSON argument.
if (process.argv[1]?.endsWith('crash-driver.js') && process.argv[2]) {
  const options = JSON.parse(process.argv[2]) as CrashOptions;
  crashTrials(options).then(
    (f) => process.stdout.write(JSON.stringify(f) + '\n'),
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
