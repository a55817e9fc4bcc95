/**
 * The host faults, as one table that test/reliability/faults.test.ts asserts and
 * scripts/reliability.mjs counts. Each starts from a host a first apply made compliant with one
 * configuration (the "old file"); the kernel then drifts back to hostile values and apply runs
 * again with another configuration under the fault. Each must end in exit 3 with one line on
 * standard error that names the cause, the kernel-parameters file whole (same inode, same text)
 * and no temporary file left.
 */
import fs from 'fs-extra';
import { CONFIG_A, CONFIG_B } from './crash.js';
import { CLI, HOSTILE, Sandbox, asNobody } from './sandbox.js';

const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';

/** One word for sh: single-quoted. */
const shellWord = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export interface FaultScenario {
  name: string;
  /** The one line on standard error. */
  line: RegExp;
  /** Sets the fault up in the sandbox (mounts, PATH, files); returns the shell command to run instead of the apply, if any. */
  prepare: (s: Sandbox, apply: string) => string | undefined;
  /** The live kernel values must stay as they were (nothing was applied). */
  kernelUntouched: boolean;
  /**
   * The configuration of the second apply: "b" changes the file (the fault must strike before the
   * old one is replaced); "a" is the first one again, so the file needs no change and the fault
   * is in applying it to the kernel.
   */
  config: 'a' | 'b';
}

/**
 * A sysctl stand-in in /usr/local/sbin inside the sandbox, or none at all (the system's hidden):
 * k3s-hostprep takes helpers from the system directories only, never from PATH.
 */
function sysctlBin(s: Sandbox, body: string | null): void {
  if (body !== null) s.program('sysctl', body);
  else s.hide('/usr/sbin/sysctl');
}

export const FAULTS: readonly FaultScenario[] = [
  {
    name: 'read-only /proc/sys',
    line: /^k3s-hostprep: apply: HOST ERROR: \[kernel-parameters\] cannot change vm\.overcommit_memory: \/proc\/sys\/vm\/overcommit_memory is on a read-only file system/,
    prepare: (s) => void s.setup.push('mount -n -o remount,ro,bind /proc/sys'),
    kernelUntouched: true,
    config: 'b',
  },
  {
    name: 'no /proc/sys/kernel/keys',
    line: /^k3s-hostprep: apply: HOST ERROR: \[kernel-parameters\] cannot read \/proc\/sys\/kernel\/keys\/root_maxkeys: ENOENT.*the kubelet cannot start without it \(and \d+ more; the report above lists them\)$/,
    prepare: (s) => void fs.rmSync(s.path('proc-sys/kernel/keys'), { recursive: true }),
    kernelUntouched: true,
    config: 'b',
  },
  {
    name: 'no sysctl binary',
    line: /^k3s-hostprep: apply: HOST ERROR: kernel-parameters: sysctl -p \/etc\/sysctl\.d\/90-kubelet\.conf could not be started: sysctl was not found as a root-owned executable in .* \(install procps\)/,
    prepare: (s) => {
      sysctlBin(s, null);
      return undefined;
    },
    kernelUntouched: true,
    config: 'a',
  },
  {
    name: 'sysctl exits 255',
    line: /^k3s-hostprep: apply: HOST ERROR: kernel-parameters: \/usr\/local\/sbin\/sysctl -p \/etc\/sysctl\.d\/90-kubelet\.conf exited 255: sysctl: permission denied on key "kernel\.panic"/,
    prepare: (s) => {
      sysctlBin(s, '#!/bin/sh\necho "sysctl: permission denied on key \\"kernel.panic\\"" >&2\nexit 255\n');
      return undefined;
    },
    kernelUntouched: true,
    config: 'a',
  },
  {
    name: 'full disk during the write',
    line: /^k3s-hostprep: apply: HOST ERROR: kernel-parameters: file \/etc\/sysctl\.d\/90-kubelet\.conf: ENOSPC: no space left on device/,
    // A 2-page tmpfs over /etc/sysctl.d holding the old file and a filler that takes the rest.
    prepare: (s) => {
      fs.copyFileSync(s.host(SYSCTL_FILE), s.path('old.conf'));
      s.setup.push(
        'mount -n -t tmpfs -o size=8k,mode=0755 tmpfs /etc/sysctl.d',
        `cp ${s.path('old.conf')} /etc/sysctl.d/90-kubelet.conf && chmod 0600 /etc/sysctl.d/90-kubelet.conf`,
        'dd if=/dev/zero of=/etc/sysctl.d/filler bs=1k count=64 2>/dev/null || true',
      );
      return undefined;
    },
    kernelUntouched: true,
    config: 'b',
  },
  {
    name: 'apply as uid 65534',
    line: /^k3s-hostprep: apply must run as root: nothing was changed$/,
    prepare: (s) => asNobody('apply', '--config', s.path('config-b.yaml')).map(shellWord).join(' '),
    kernelUntouched: true,
    config: 'b',
  },
  {
    name: 'lock held by another run',
    line: /another run holds the lock on \/run\/k3s-hostprep\/apply\.lock/,
    prepare: (_s, apply) =>
      // The shell itself holds the lock (no race with a holder in the background): apply opens the file anew and waits.
      `mkdir -p -m 0700 /run/k3s-hostprep; exec 9>/run/k3s-hostprep/apply.lock; flock 9; ${apply} --wait 1`,
    kernelUntouched: true,
    config: 'b',
  },
];

export interface FaultOutcome {
  name: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The kernel-parameters file after the run is the old one: same inode, same text (read inside the namespace). */
  oldFileIntact: boolean;
  /** Temporary files left in /etc/sysctl.d. */
  tempsLeft: string[];
  /** kernel.panic after the run (-1: as the hostile kernel had it). */
  kernelPanic: string;
}

/** Runs one scenario in a fresh sandbox. */
export async function runFault(scenario: FaultScenario): Promise<FaultOutcome> {
  const s = new Sandbox({ kernel: { ...HOSTILE, 'net.ipv4.ip_forward': '0' } });
  try {
    const a = s.path('config-a.yaml');
    const b = s.path('config-b.yaml');
    fs.writeFileSync(a, CONFIG_A);
    fs.writeFileSync(b, CONFIG_B);
    const first = await s.cli('apply', '--config', a);
    if (first.exitCode !== 0) throw new Error(`${scenario.name}: the first apply failed: ${first.stdout}${first.stderr}`);
    for (const [k, v] of Object.entries(HOSTILE)) s.setKernel(k, v);
    const apply = `${process.execPath} ${CLI} apply --config ${scenario.config === 'a' ? a : b}`;
    const command = scenario.prepare(s, apply) ?? apply;
    // Before and after are read inside the namespace (some faults mount over /etc/sysctl.d), by
    // absolute path (some empty PATH).
    const state = (tag: string) => `/usr/bin/stat -c %i ${SYSCTL_FILE} > ${s.path(`${tag}.ino`)}; /usr/bin/cat ${SYSCTL_FILE} > ${s.path(`${tag}.txt`)}`;
    const r = await s.exec([
      '/bin/sh',
      '-c',
      `${state('before')}; ( ${command} ); rc=$?; ${state('after')}; /usr/bin/ls -a /etc/sysctl.d > ${s.path('after.ls')}; exit $rc`,
    ]);
    const read = (name: string) => fs.readFileSync(s.path(name), 'utf8');
    return {
      name: scenario.name,
      exitCode: r.exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      oldFileIntact: read('before.ino') === read('after.ino') && read('before.txt') === read('after.txt') && read('after.txt').length > 0,
      tempsLeft: read('after.ls')
        .split('\n')
        .filter((n) => n.endsWith('.tmp')),
      kernelPanic: s.kernel('kernel.panic'),
    };
  } finally {
    s.dispose();
  }
}
