/**
 * A private mount namespace for running the built command against fake kernel files and a
 * throw-away /etc, /var/lib and /run, with the real sysctl binary. Nothing reaches this
 * machine's kernel or its real files: /proc/sys, /etc/sysctl.d, /etc/sysctl.conf, /var/lib,
 * /run and the vendor sysctl.d directories are bind mounts of directories under the sandbox,
 * and every other write to /etc lands in an overlay's upper directory, also under the sandbox.
 */
import { execa } from 'execa';
import fs from 'fs-extra';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import tmp from 'tmp';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(REPO, 'dist/cli.js');

/** The starting values the issue calls hostile: every one of them makes the kubelet refuse to start. */
export const HOSTILE: Record<string, string> = {
  'vm.panic_on_oom': '0',
  'vm.overcommit_memory': '0',
  'kernel.panic': '-1',
  'kernel.panic_on_oops': '0',
  'kernel.keys.root_maxkeys': '200',
  'kernel.keys.root_maxbytes': '20000',
};

export const COMPLIANT: Record<string, string> = {
  'vm.panic_on_oom': '0',
  'vm.overcommit_memory': '1',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface SandboxOptions {
  /** Kernel values to start from (default HOSTILE); a key missing here has no file. */
  kernel?: Record<string, string>;
  /** Extra mount-namespace commands run before the command, e.g. a read-only remount. */
  setup?: string[];
}

/** The mounts themselves live in scripts/sandbox-mounts.sh, which the benchmark sources too. */
const MOUNTS = path.join(REPO, 'scripts/sandbox-mounts.sh');
const SCRIPT = `
set -eu
S="$1"; shift
. "$SANDBOX_MOUNTS"
eval "$SANDBOX_SETUP"
exec "$@"
`;

export interface Running {
  stdout: string;
  stderr: string;
  pid: number;
  exited: Promise<{ exitCode: number; signal: string | null }>;
  /** Resolves when standard error matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export class Sandbox {
  readonly dir: string;
  private readonly cleanup: () => void;

  constructor(options: SandboxOptions = {}) {
    const handle = tmp.dirSync({ prefix: 'k3s-hostprep-sandbox-', unsafeCleanup: true });
    this.dir = handle.name;
    this.cleanup = handle.removeCallback;
    for (const d of ['proc-sys', 'etc-upper', 'etc-work', 'etc-sysctl.d', 'var-lib', 'run', 'vendor-sysctl.d']) fs.mkdirSync(this.path(d));
    fs.writeFileSync(this.path('sysctl.conf'), '');
    for (const [key, value] of Object.entries(options.kernel ?? HOSTILE)) this.setKernel(key, value);
    this.setup = options.setup ?? [];
  }

  setup: string[];

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  kernelFile(key: string): string {
    return this.path('proc-sys', ...key.split('.'));
  }

  setKernel(key: string, value: string): void {
    fs.mkdirpSync(path.dirname(this.kernelFile(key)));
    fs.writeFileSync(this.kernelFile(key), `${value}\n`);
  }

  kernel(key: string): string {
    return fs.readFileSync(this.kernelFile(key), 'utf8').trim();
  }

  /** The sandbox directory that stands for a path of the system inside the namespace. */
  host(p: string): string {
    if (p === '/etc/sysctl.conf') return this.path('sysctl.conf');
    if (p.startsWith('/etc/sysctl.d/') || p === '/etc/sysctl.d') return this.path('etc-sysctl.d', p.slice('/etc/sysctl.d'.length));
    if (p.startsWith('/var/lib/')) return this.path('var-lib', p.slice('/var/lib/'.length));
    if (p.startsWith('/run/')) return this.path('run', p.slice('/run/'.length));
    if (p.startsWith('/usr/lib/sysctl.d/')) return this.path('vendor-sysctl.d', p.slice('/usr/lib/sysctl.d/'.length));
    if (p.startsWith('/etc/')) return this.path('etc-upper', p.slice('/etc/'.length));
    throw new Error(`no sandbox place for ${p}`);
  }

  write(p: string, content: string, mode = 0o644): string {
    const target = this.host(p);
    fs.mkdirpSync(path.dirname(target));
    fs.writeFileSync(target, content, { mode });
    fs.chmodSync(target, mode);
    return target;
  }

  /**
   * Puts a program into /usr/local/sbin inside the namespace (a sandbox directory is mounted
   * there): k3s-hostprep takes helpers from the system directories only, in that order, so a
   * stand-in there is found before the system's own. Returns its path on this machine.
   */
  program(name: string, body: string): string {
    const dir = this.path('usr-local-sbin');
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { mode: 0o755 });
      this.setup.push(`mount -n --bind ${dir} /usr/local/sbin`);
    }
    const file = path.join(dir, name);
    fs.writeFileSync(file, body, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
    return file;
  }

  /** Hides a program of this machine inside the namespace (/dev/null is mounted over it). */
  hide(file: string): void {
    this.setup.push(`mount -n --bind /dev/null ${file}`);
  }

  /** Runs a command inside the namespace. */
  async exec(command: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunResult> {
    const result = await execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', SCRIPT, 'sandbox', this.dir, ...command], {
      reject: false,
      stdin: 'ignore',
      timeout: timeoutMs,
      stripFinalNewline: false,
      env: { ...env, SANDBOX_MOUNTS: MOUNTS, SANDBOX_SETUP: this.setup.join('\n') },
    });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /**
   * Starts a long-running command inside the namespace (unshare and sh exec into it, so the
   * child's pid is the command's) and collects its output as it comes.
   */
  start(command: string[]): Running {
    const child = execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', SCRIPT, 'sandbox', this.dir, ...command], {
      reject: false,
      stdin: 'ignore',
      timeout: 120_000,
      env: { SANDBOX_MOUNTS: MOUNTS, SANDBOX_SETUP: this.setup.join('\n') },
    });
    const running: Running = {
      stdout: '',
      stderr: '',
      pid: child.pid!,
      exited: child.then((r) => ({ exitCode: r.exitCode ?? -1, signal: r.signal ?? null })),
      async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const m = running.stderr.match(pattern);
          if (m) return m;
          if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}; stderr so far:\n${running.stderr}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    };
    child.stdout!.on('data', (d: Buffer) => (running.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (running.stderr += d.toString()));
    return running;
  }

  /**
   * Forgets the runs k3s-hostprep kept for replay (src/replay/last-run.ts): the next check or
   * apply runs in full, for a test about what a full run loads or asks.
   */
  forgetLastRuns(): void {
    const dir = this.host('/var/lib/k3s-hostprep');
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir)) if (/^last-(check|apply)(-[0-9a-f]{8})?\.json$/.test(name)) fs.rmSync(`${dir}/${name}`, { force: true });
  }

  /**
   * Runs the built k3s-hostprep inside the namespace, in full: a run an earlier step kept is
   * forgotten first, since whether it was kept depends on how long the machine took between the
   * two (the racy margin, src/replay/recording-host.ts). Replay is tested through exec().
   */
  async cli(...args: string[]): Promise<RunResult> {
    this.forgetLastRuns();
    return this.exec([process.execPath, CLI, ...args]);
  }

  /** Every file under a sandbox directory, relative, for "nothing else was touched" assertions. */
  list(dir: string): string[] {
    const root = this.path(dir);
    const out: string[] = [];
    const walk = (d: string) => {
      for (const name of fs.readdirSync(d)) {
        const full = path.join(d, name);
        out.push(path.relative(root, full));
        if (fs.lstatSync(full).isDirectory()) walk(full);
      }
    };
    walk(root);
    return out.sort();
  }

  dispose(): void {
    this.cleanup();
  }
}

let readableDist: string | undefined;

/**
 * The built command where any user can read it: a copy of dist/ in a world-readable temporary
 * directory (removed when the test process exits). A checkout under a 0700 home directory
 * (/root) is unreadable to the unprivileged user the non-root tests run as, and Node would exit
 * with MODULE_NOT_FOUND before k3s-hostprep said a word.
 */
export function readableCli(): string {
  if (readableDist === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-dist-'));
    fs.chmodSync(dir, 0o755);
    fs.copySync(path.join(REPO, 'dist'), dir);
    const open = (p: string) => {
      const st = fs.statSync(p);
      fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
      if (st.isDirectory()) for (const name of fs.readdirSync(p)) open(path.join(p, name));
    };
    open(dir);
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    readableDist = dir;
  }
  return path.join(readableDist, 'cli.js');
}

/** A command line that runs the built k3s-hostprep as uid and gid 65534 (nobody), from /, whatever the checkout's modes. */
export function asNobody(...args: string[]): string[] {
  return [
    'sh',
    '-c',
    'cd / && exec "$@"',
    'as-nobody',
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    process.execPath,
    readableCli(),
    ...args,
  ];
}

export function isRoot(): boolean {
  return process.geteuid?.() === 0;
}
