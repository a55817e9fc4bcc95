/**
 * The replay of a remembered run: the unit rules (what a state file must hold, what makes a key)
 * and the built command in a private mount namespace: replayed while nothing changed, run in full
 * after any change a full run would see, and never replayed from a file another user could have
 * written.
 */
import test from 'ava';
import fs from 'fs-extra';
import { execaSync } from 'execa';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tmp from 'tmp';
import { NodeHost } from '../../src/host/node-host.js';
import type { Output } from '../../src/host/fd-output.js';
import {
  KEPT_RUNS,
  isLastRunName,
  keepLastRun,
  lastRunFile,
  lastRunText,
  replayKey,
  replayLastRun,
  stillHolds,
  type LastRun,
} from '../../src/replay/last-run.js';
import { RACY_MARGIN_NS } from '../../src/replay/recording-host.js';
import { AUDIT_POLICY_FILE } from '../../src/k3s/paths.js';
import { CLI, COMPLIANT, Sandbox, asNobody, isRoot } from '../helpers/sandbox.js';

const it = isRoot() ? test : test.skip;
/** For what the run's own start time decides: not while the other runs of this file load the machine. */
const itAlone = isRoot() ? test.serial : test.skip;
const NOBODY = 65534;
const TRACE = { K3S_HOSTPREP_TRACE_REPLAY: '1', K3S_HOSTPREP_TRACE_LOAD: '1' };

function collect(): Output & { text: string } {
  const o = {
    text: '',
    write: (s: string) => {
      o.text += s;
      return true;
    },
  };
  return o;
}

/** A state directory holding one text, for the unit tests: a host as far as replay asks. */
function stateHost(files: Record<string, string>, kernel: Record<string, string> = {}) {
  return {
    euid: 0,
    live: true,
    root: '/',
    readState: (p: string) => files[p] ?? null,
    readSysctl: (k: string) => {
      if (kernel[k] === undefined) throw new Error('ENOENT');
      return kernel[k]!;
    },
  };
}

const run = (over: Partial<LastRun> = {}): LastRun => ({
  key: replayKey(['check'], 'build-1'),
  entries: [['/', 'd:40755:0:0']],
  sysctls: [['kernel.panic', '10\n']],
  facts: null,
  stdout: 'Verdict: COMPLIANT\n',
  stderr: '',
  exitCode: 0,
  ...over,
});

test('a remembered run is replayed only for its own command line and build, and only while its facts hold', (t) => {
  const files = { [lastRunFile('check', run().key)]: lastRunText(run()) };
  const kernel = { 'kernel.panic': '10\n' };
  const replay = (argv: string[], build: string | null, k = kernel) => {
    const out = collect();
    const code = replayLastRun(argv, out, collect(), stateHost(files, k), build);
    return { code, out: out.text };
  };
  t.deepEqual(replay(['check'], 'build-1'), { code: 0, out: 'Verdict: COMPLIANT\n' });
  t.is(replay(['check'], 'build-2').code, null, 'another build');
  t.is(replay(['check'], null).code, null, 'unbundled sources never replay');
  t.is(replay(['check', '--json'], 'build-1').code, null, 'another command line');
  t.is(replay(['apply'], 'build-1').code, null, "apply's own run is another file");
  t.is(replay(['check'], 'build-1', { 'kernel.panic': '1\n' }).code, null, 'a kernel value changed');
  t.is(replay(['check'], 'build-1', {} as typeof kernel).code, null, 'a kernel value that cannot be read');
  // Runs that write elsewhere are never looked up, even where a run for that very line is kept.
  for (const argv of [
    ['check', '--root', '/mnt'],
    ['check', '--root=/mnt'],
    ['check', '--junit', '/tmp/r.xml'],
    ['check', '--junit=/tmp/r.xml'],
  ]) {
    const kept = { [lastRunFile('check', replayKey(argv, 'build-1'))]: lastRunText(run({ key: replayKey(argv, 'build-1') })) };
    t.is(replayLastRun(argv, collect(), collect(), stateHost(kept, kernel), 'build-1'), null, argv.join(' '));
  }
});

test('each command line is replayed from its own kept run: check and check --json do not replace each other', (t) => {
  const lines = [['check'], ['check', '--json'], ['check', '--role', 'agent']];
  const files = Object.fromEntries(
    lines.map((argv) => [
      lastRunFile('check', replayKey(argv, 'build-1')),
      lastRunText(run({ key: replayKey(argv, 'build-1'), stdout: `${argv.join(' ')}\n` })),
    ]),
  );
  t.is(new Set(Object.keys(files)).size, lines.length, 'a file per line');
  for (const argv of lines) {
    const out = collect();
    t.is(replayLastRun(argv, out, collect(), stateHost(files, { 'kernel.panic': '10\n' }), 'build-1'), 0);
    t.is(out.text, `${argv.join(' ')}\n`);
  }
});

(isRoot() ? test : test.skip)('past KEPT_RUNS runs of a command, the ones written longest ago go; the one file of before goes at once', (t) => {
  const root = tmp.dirSync({ prefix: 'k3s-hostprep-kept-', unsafeCleanup: true }).name;
  const dir = path.join(root, 'var/lib/k3s-hostprep');
  fs.mkdirpSync(dir, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'last-check.json'), lastRunText(run()));
  fs.writeFileSync(path.join(dir, 'last-apply.json'), lastRunText(run()));
  const host = new NodeHost(root);
  const lines = [
    ['check'],
    ['check', '--json'],
    ['check', '--role', 'agent'],
    ['check', '--benchmark', 'k3s-cis-1.9'],
    ['check', '--json', '--role', 'agent'],
    ['check', '--force'],
  ];
  const long_ago = Date.now() / 1000 - 1000;
  lines.forEach((argv, i) => {
    const key = replayKey(argv, 'build-1');
    keepLastRun(host, 'check', run({ key }));
    // Written one after the other, a second apart, whatever the file system's time granularity.
    fs.utimesSync(path.join(root, lastRunFile('check', key)), long_ago + i, long_ago + i);
  });
  const kept = fs
    .readdirSync(dir)
    .filter((n) => isLastRunName('check', n))
    .sort();
  const newest = lines
    .slice(-KEPT_RUNS)
    .map((argv) => path.basename(lastRunFile('check', replayKey(argv, 'build-1'))))
    .sort();
  t.deepEqual(kept, newest);
  t.false(fs.existsSync(path.join(dir, 'last-check.json')), "check's file of before is gone");
  t.true(fs.existsSync(path.join(dir, 'last-apply.json')), "apply's is apply's to remove");
});

test('what replay cannot tell (a state read that throws) runs the command in full, never fails the run', (t) => {
  const host = {
    ...stateHost({}),
    readState: () => {
      throw new Error('EIO: i/o error');
    },
  };
  const trace = collect();
  t.is(replayLastRun(['check'], collect(), collect(), host, 'build-1', trace), null);
  t.regex(trace.text, /replay: EIO/);
});

test('a state file that does not hold a whole run is not replayed', (t) => {
  const broken = [
    '',
    'null',
    '{"key":',
    JSON.stringify({ ...run(), stdout: 1 }),
    JSON.stringify({ ...run(), exitCode: '0' }),
    JSON.stringify({ ...run(), entries: [['/']] }),
    JSON.stringify({ ...run(), sysctls: 'kernel.panic' }),
    JSON.stringify({ ...run(), facts: { kernel: 1 } }),
  ];
  for (const text of broken) {
    t.is(
      replayLastRun(['check'], collect(), collect(), stateHost({ [lastRunFile('check', run().key)]: text }, { 'kernel.panic': '10\n' }), 'build-1'),
      null,
      text,
    );
  }
});

test('stillHolds names what changed', (t) => {
  t.is(stillHolds(run(), stateHost({}, { 'kernel.panic': '10\n' })), null);
  t.regex(stillHolds(run(), stateHost({}, { 'kernel.panic': '1\n' }))!, /kernel\.panic: "10\\n" -> "1\\n"/);
  t.regex(
    stillHolds(run({ entries: [['/nothing/here/at/all', 'f:2:100600:0:0:1:1:1']] }), stateHost({}, { 'kernel.panic': '10\n' }))!,
    /\/nothing\/here\/at\/all: .* -> m/,
  );
  t.regex(stillHolds(run({ facts: { kernel: '0.0.0-other', hostname: 'x' } }), stateHost({}, { 'kernel.panic': '10\n' }))!, /kernel release or the host name/);
});

/** A converged server whose files are older than the racy margin, as a node's are at boot. */
async function settled(t: { is: (a: unknown, b: unknown, m?: string) => void }): Promise<Sandbox> {
  const s = new Sandbox({ kernel: COMPLIANT });
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  await sleep(Number(RACY_MARGIN_NS / 1_000_000n) + 200);
  return s;
}

const check = (s: Sandbox, ...args: string[]) => s.exec([process.execPath, CLI, 'check', ...args], TRACE);

/** The file (on this machine) of the one run of a command kept in the sandbox, or null when none is. */
function keptFile(s: Sandbox, command: 'check' | 'apply' = 'check'): string | null {
  const dir = s.host('/var/lib/k3s-hostprep');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => isLastRunName(command, n)) : [];
  if (names.length > 1) throw new Error(`more than one kept run of ${command}: ${names.join(', ')}`);
  return names.length === 0 ? null : `${dir}/${names[0]}`;
}

it('check is replayed while nothing changed: the same output and exit code, without loading the command', async (t) => {
  const s = await settled(t);
  const full = await check(s);
  t.is(full.exitCode, 0, full.stderr);
  t.regex(full.stderr, /replay: no last run/);
  t.regex(full.stderr, /LOADED .*command\.cjs/);
  t.true(keptFile(s) !== null, 'the run was kept');
  t.is(fs.statSync(keptFile(s)!).mode & 0o777, 0o600);
  const again = await check(s);
  t.regex(again.stderr, /replay: nothing changed since the last run/);
  t.notRegex(again.stderr, /LOADED .*command\.cjs/, 'the command was not loaded');
  t.is(again.exitCode, full.exitCode);
  t.is(again.stdout, full.stdout);
  s.dispose();
});

const TLS = '/var/lib/rancher/k3s/server/tls';

it('a K3s start writing its certificates again is no change (they are checked for mode and owner only): the next run is replayed; a chmod of one is', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  for (const name of ['client-ca.crt', 'client-ca.key', 'server-ca.crt', 'server-ca.key', 'server-ca.nochain.crt', 'service.current.key'])
    s.write(`${TLS}/${name}`, 'PEM\n', 0o600);
  for (const name of ['admin', 'controller', 'scheduler']) s.write(`/var/lib/rancher/k3s/server/cred/${name}.kubeconfig`, 'apiVersion: v1\n', 0o600);
  t.is((await s.cli('apply')).exitCode, 0);
  await sleep(Number(RACY_MARGIN_NS / 1_000_000n) + 200);
  const full = await check(s);
  t.regex(full.stderr, /replay: no last run/);
  t.true(keptFile(s) !== null, 'the run was kept');
  // What every K3s server start does (pkg/daemons/control/deps: createServerSigningCertKey writes
  // server-ca.nochain.crt, genServiceAccount service.current.key): the same files written again in place.
  for (const name of ['server-ca.nochain.crt', 'service.current.key']) fs.writeFileSync(s.host(`${TLS}/${name}`), 'PEM, written again\n');
  await sleep(Number(RACY_MARGIN_NS / 1_000_000n) + 200);
  const again = await check(s);
  t.regex(again.stderr, /replay: nothing changed since the last run/);
  t.is(again.stdout, full.stdout);
  fs.chmodSync(s.host(`${TLS}/server-ca.nochain.crt`), 0o644);
  const after = await check(s);
  t.regex(after.stderr, /replay: changed since the last run: .*server-ca\.nochain\.crt: a:100600:0:0 -> a:100644:0:0/);
  t.regex(after.stderr, /LOADED .*command\.cjs/, 'run in full');
  s.dispose();
});

it('check and check --json alternating: each keeps its run and each is replayed', async (t) => {
  const s = await settled(t);
  for (const args of [[], ['--json']]) t.regex((await check(s, ...args)).stderr, /replay: no last run/);
  for (let round = 0; round < 2; round++) {
    for (const args of [[], ['--json']]) t.regex((await check(s, ...args)).stderr, /replay: nothing changed since the last run/, `check ${args.join(' ')}`);
  }
  s.dispose();
});

/** Changes a full run sees, made after a run was kept: the next run is run in full and says what a full run says. */
const CHANGES: Array<{ name: string; change: (s: Sandbox) => void; env?: Record<string, string>; expect: RegExp; exitCode: number }> = [
  {
    name: 'a kernel value',
    change: (s) => s.setKernel('kernel.panic', '1'),
    expect: /invalid kernel flag: kernel\/panic, expected value: 10, actual value: 1/,
    exitCode: 1,
  },
  {
    name: 'the audit policy made readable by all',
    change: (s) => fs.chmodSync(s.host('/var/lib/rancher/k3s/server/audit.yaml'), 0o644),
    expect: /audit\.yaml/,
    exitCode: 1,
  },
  {
    name: 'a drop-in in /etc/sysctl.d that overrides a kernel parameter at the next boot',
    change: (s) => s.write('/etc/sysctl.d/99-zz-override.conf', 'kernel.panic = 0\n'),
    expect: /99-zz-override\.conf/,
    exitCode: 1,
  },
  {
    name: 'K3s installed (its version chooses the benchmark)',
    change: (s) => s.program('k3s', '#!/bin/sh\n[ "$1" = --version ] || exit 1\necho "k3s version v1.24.17+k3s1 (026bb0ec)"\n'),
    // Judged for v1.24 (k3s-cis-1.24), which the files applied for the newest line do not all satisfy.
    expect: /v1\.24\.17\+k3s1/,
    exitCode: 1,
  },
  {
    name: 'INSTALL_K3S_VERSION set',
    change: () => {},
    env: { INSTALL_K3S_VERSION: 'v1.24.17+k3s1' },
    // Judged for v1.24 (k3s-cis-1.24), which the files applied for the newest line do not all satisfy.
    expect: /v1\.24\.17\+k3s1/,
    exitCode: 1,
  },
];

for (const c of CHANGES) {
  it(`run in full after a change: ${c.name}`, async (t) => {
    const s = await settled(t);
    const kept = await check(s);
    t.is(kept.exitCode, 0, kept.stderr);
    t.regex((await check(s)).stderr, /replay: nothing changed/, 'replayed before the change');
    c.change(s);
    const after = await s.exec([process.execPath, CLI, 'check'], { ...TRACE, ...c.env });
    // Another environment is another key, kept in a file of its own: none yet.
    t.regex(after.stderr, c.env ? /replay: no last run/ : /replay: changed since the last run/);
    t.regex(after.stderr, /LOADED .*command\.cjs/);
    t.is(after.exitCode, c.exitCode, after.stdout);
    t.regex(after.stdout + after.stderr, c.expect);
    t.notDeepEqual(after.stdout, kept.stdout);
    s.dispose();
  });
}

it('apply is replayed on a converged node, and runs in full (and converges) once something drifted', async (t) => {
  const s = await settled(t);
  const apply = (env = TRACE) => s.exec([process.execPath, CLI, 'apply'], env);
  const kept = await apply();
  t.is(kept.exitCode, 0);
  const again = await apply();
  t.regex(again.stderr, /replay: nothing changed/);
  t.is(again.stdout, kept.stdout);
  s.setKernel('vm.overcommit_memory', '0');
  const drifted = await apply();
  t.regex(drifted.stderr, /replay: changed since the last run: vm\.overcommit_memory/);
  t.regex(drifted.stderr, /replay: this run is not kept: /);
  t.is(drifted.exitCode, 0, drifted.stdout);
  t.is(s.kernel('vm.overcommit_memory'), '1', 'converged by the full run');
  s.dispose();
});

itAlone('a run right after the files it read were written is not kept (their change time could be shared by a later change)', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  t.is((await s.cli('apply')).exitCode, 0);
  const margin = Number(RACY_MARGIN_NS / 1_000_000n);
  // The audit policy written again (chmod sets the change time, even to the same mode) by the
  // shell that then becomes the check. What is held: a check that started less than the margin
  // after that write keeps nothing. A loaded machine may take longer than the margin to start
  // one; such an attempt proves nothing, and the next one is made.
  for (let attempt = 1; ; attempt++) {
    s.forgetLastRuns();
    const started = Date.now();
    const r = await s.exec(['sh', '-c', `chmod 600 ${AUDIT_POLICY_FILE} && exec "$0" "$@"`, process.execPath, CLI, 'check'], TRACE);
    if (Date.now() - started < margin) {
      t.is(r.exitCode, 0, r.stderr);
      t.regex(r.stderr, /replay: this run is not kept: changed too recently to be told apart from a later change: /);
      t.is(keptFile(s), null);
      break;
    }
    if (attempt === 5) {
      t.fail(`no check started within ${margin} ms of the write in ${attempt} attempts`);
      break;
    }
  }
  s.dispose();
});

it('a run that writes a metrics file is not kept (the file carries the time of the run)', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  fs.mkdirpSync(s.host('/var/lib/node_exporter'));
  s.write('/etc/k3s-hostprep/config.yaml', 'metrics:\n  textfilePath: /var/lib/node_exporter/k3s-hostprep.prom\n', 0o600);
  t.is((await s.cli('apply')).exitCode, 0);
  await sleep(Number(RACY_MARGIN_NS / 1_000_000n) + 200);
  const r = await check(s);
  t.regex(r.stderr, /replay: this run is not kept: it writes a metrics file/);
  t.false(keptFile(s) !== null);
  s.dispose();
});

it("another user's runs are neither kept nor replayed", async (t) => {
  const s = await settled(t);
  for (let i = 0; i < 2; i++) {
    const r = await s.exec(asNobody('check'), TRACE);
    t.notRegex(r.stderr, /replay: nothing changed/);
  }
  t.false(keptFile(s) !== null);
  s.dispose();
});

/**
 * The attack: another user puts a run of their own making where the last run is kept, saying
 * COMPLIANT with nothing to check, on a host that is not. Each way they could have written it
 * is refused, and the run is a full one.
 */
const FORGERIES: Array<{ name: string; plant: (s: Sandbox, file: string, text: string) => void }> = [
  {
    name: 'the state directory is theirs',
    plant: (s, file, text) => {
      fs.chownSync(s.host('/var/lib/k3s-hostprep'), NOBODY, NOBODY);
      fs.writeFileSync(file, text);
      fs.chownSync(file, NOBODY, NOBODY);
    },
  },
  {
    name: 'the file is theirs',
    plant: (_s, file, text) => {
      fs.writeFileSync(file, text);
      fs.chownSync(file, NOBODY, NOBODY);
    },
  },
  {
    name: 'an ACL entry lets them write the state directory',
    plant: (s, file, text) => {
      execaSync('setfacl', ['-m', `u:${NOBODY}:rwx`, s.host('/var/lib/k3s-hostprep')]);
      fs.writeFileSync(file, text);
    },
  },
  {
    name: 'an ACL entry lets them write the file',
    plant: (_s, file, text) => {
      fs.writeFileSync(file, text);
      execaSync('setfacl', ['-m', `u:${NOBODY}:rw`, file]);
    },
  },
  {
    name: 'a link to a file of theirs',
    plant: (s, file, text) => {
      const theirs = s.host('/var/lib/theirs.json');
      fs.writeFileSync(theirs, text);
      fs.chownSync(theirs, NOBODY, NOBODY);
      fs.rmSync(file, { force: true });
      fs.symlinkSync('/var/lib/theirs.json', file);
    },
  },
];

for (const f of FORGERIES) {
  it(`a forged last run is not replayed: ${f.name}`, async (t) => {
    const s = await settled(t);
    t.is((await check(s)).exitCode, 0);
    // Their run: the real key (the build is readable by all), nothing to check, COMPLIANT.
    const file = keptFile(s)!;
    const real = JSON.parse(fs.readFileSync(file, 'utf8')) as LastRun;
    const forged = lastRunText({ ...real, entries: [], sysctls: [], facts: null, stdout: 'Verdict: COMPLIANT (forged)\n', stderr: '', exitCode: 0 });
    s.setKernel('kernel.panic', '0');
    f.plant(s, file, forged);
    const r = await check(s);
    t.notRegex(r.stdout, /forged/);
    t.is(r.exitCode, 1, r.stdout);
    t.regex(r.stdout, /Verdict: NOT COMPLIANT/);
    s.dispose();
  });
}

it('the forged run is replayed when root wrote it: the attack tests above fail for the trust rule alone', async (t) => {
  const s = await settled(t);
  t.is((await check(s)).exitCode, 0);
  const file = keptFile(s)!;
  const real = JSON.parse(fs.readFileSync(file, 'utf8')) as LastRun;
  fs.writeFileSync(file, lastRunText({ ...real, entries: [], sysctls: [], facts: null, stdout: 'Verdict: COMPLIANT (forged)\n' }));
  s.setKernel('kernel.panic', '0');
  const r = await check(s);
  t.regex(r.stdout, /forged/);
  s.dispose();
});
