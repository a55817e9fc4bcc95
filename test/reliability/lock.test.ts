/**
 * Concurrency: apply runs are serialised by a flock lock on /run/k3s-hostprep/apply.lock (the
 * root directory under --root). Every sandbox run below gets its own mount namespace, but they
 * share the sandbox's /run, so they contend for the same lock file, as runs on one host do.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { CLI, HOSTILE, Sandbox, isRoot } from '../helpers/sandbox.js';
import { CONFIG_A, CONFIG_B, concurrentApplies } from '../helpers/crash.js';

const it = isRoot() ? test.serial : test.skip;
const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';
const AUDIT = '/var/lib/rancher/k3s/server/audit.yaml';

/** A sysctl in /usr/local/sbin that records overlapping calls, sleeps a little, then runs the real one. */
function overlapDetectingSysctl(s: Sandbox, sleep = '0.2'): string {
  const log = s.path('sysctl.log');
  s.program(
    'sysctl',
    `#!/bin/sh\nif ! mkdir ${s.path('busy')} 2>/dev/null; then echo OVERLAP >> ${log}; fi\necho "call $*" >> ${log}\nsleep ${sleep}\n/usr/sbin/sysctl "$@"; rc=$?\nrmdir ${s.path('busy')} 2>/dev/null\nexit $rc\n`,
  );
  return log;
}

/**
 * Shell words that return once the apply started before them is inside its slow sysctl, so holds
 * the lock: a fixed head start is too short on a loaded machine.
 */
function whileHeld(s: Sandbox): string {
  return waitUntil(s.path('busy'), 'the first apply to be inside its sysctl');
}

/**
 * Shell words that return once `file` exists, or stop the script (exit 124) after `seconds` with a
 * message naming `what`: a run that failed before it got there ends the test with that message,
 * not with the test runner's timeout and a shell still polling.
 */
function waitUntil(file: string, what: string, seconds = 60): string {
  return `n=0; while [ ! -e ${file} ]; do n=$((n + 1)); if [ $n -gt ${seconds * 20} ]; then echo "gave up after ${seconds} s waiting for ${what}" >&2; exit 124; fi; sleep 0.05; done;`;
}

/**
 * A shell script that takes the flock lock on `lock`, runs `commands` while it is held, then lets
 * it go. The holder says when it holds the lock and keeps it until told to let go: on a loaded
 * machine a fixed sleep can let the commands start before flock holds the lock, or outlast it.
 */
function whileLocked(s: Sandbox, lock: string, commands: string): string {
  const held = s.path('held');
  const release = s.path('release');
  fs.rmSync(held, { force: true });
  fs.rmSync(release, { force: true });
  // The holder lets go after 60 s at most, so none outlives a test that stopped early.
  const holder = `flock ${lock} sh -c 'touch ${held}; n=0; while [ ! -e ${release} ] && [ $n -le 1200 ]; do n=$((n + 1)); sleep 0.05; done'`;
  return `${holder} & ${waitUntil(held, `flock to hold ${lock}`)} ${commands}; touch ${release}; wait`;
}

function configs(s: Sandbox): { a: string; b: string } {
  const a = s.path('config-a.yaml');
  const b = s.path('config-b.yaml');
  fs.writeFileSync(a, CONFIG_A);
  fs.writeFileSync(b, CONFIG_B);
  return { a, b };
}

it('ten applies started at once all succeed one after another, and the host ends compliant with whole files', async (t) => {
  const s = new Sandbox({ kernel: { ...HOSTILE, 'net.ipv4.ip_forward': '0' } });
  const log = overlapDetectingSysctl(s);
  const c = configs(s);
  const runs = await concurrentApplies(s, c.a, c.b);
  for (const [i, r] of runs.entries()) t.is(r.exitCode, 0, `run ${i}: ${r.stderr}`);
  const calls = fs.readFileSync(log, 'utf8');
  t.false(calls.includes('OVERLAP'), 'no two runs were inside sysctl at the same time');
  t.true(calls.split('\n').filter((l) => l.startsWith('call')).length >= 2, 'several runs had work to do');
  // The last run decided the configuration: the host is compliant with one of the two, file by file whole.
  const verdicts = await Promise.all([s.cli('check', '--config', c.a), s.cli('check', '--config', c.b)]);
  t.deepEqual(verdicts.map((v) => v.exitCode).sort(), [0, 1]);
  const winner = verdicts[0]!.exitCode === 0 ? c.a : c.b;
  for (const [artefact, file] of [
    ['sysctl', SYSCTL_FILE],
    ['audit', AUDIT],
  ] as const) {
    const rendered = await s.cli('render', artefact, '--config', winner);
    t.is(fs.readFileSync(s.host(file), 'utf8'), rendered.stdout, file);
  }
  t.deepEqual(
    s.list('etc-sysctl.d').filter((n) => n.endsWith('.tmp')),
    [],
  );
  t.regex(fs.readFileSync(s.path('run/k3s-hostprep/apply.lock'), 'utf8'), /^pid \d+ since \d{4}-/);
  t.is(fs.statSync(s.path('run/k3s-hostprep')).mode & 0o7777, 0o700);
  s.dispose();
});

it('a run that cannot get the lock within --wait stops with a clear message naming the holder', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  overlapDetectingSysctl(s, '4');
  // The first apply holds the lock while its slow sysctl runs; the second waits one second.
  const script = `${process.execPath} ${CLI} apply > ${s.path('first.out')} 2>&1 & ${whileHeld(s)} start=$(date +%s%N); ${process.execPath} ${CLI} apply --wait 1; rc=$?; end=$(date +%s%N); echo "rc=$rc ms=$(( (end - start) / 1000000 ))"; wait`;
  const r = await s.exec(['sh', '-c', script]);
  const [, rc, ms] = /rc=(\d+) ms=(\d+)/.exec(r.stdout) ?? [];
  t.is(rc, '3', r.stdout + r.stderr);
  t.regex(
    r.stderr,
    /^k3s-hostprep: another run holds the lock on \/run\/k3s-hostprep\/apply\.lock \(pid \d+\); waited 1s \(--wait SECONDS to wait longer\)\n$/,
  );
  t.true(Number(ms) >= 900 && Number(ms) < 3900, `waited about a second (${ms} ms)`);
  t.regex(fs.readFileSync(s.path('first.out'), 'utf8'), /Verdict: COMPLIANT/, 'the holder finished its run');
  s.dispose();
});

it('a lock left by a dead process does not block: not even a killed apply', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  fs.mkdirpSync(s.path('run/k3s-hostprep'), { mode: 0o700 });
  fs.writeFileSync(s.path('run/k3s-hostprep/apply.lock'), 'pid 999999 since 2020-01-01T00:00:00.000Z\n');
  const stale = await s.cli('apply', '--wait', '0');
  t.is(stale.exitCode, 0, stale.stderr);
  // An apply killed while it holds the lock (inside its slow sysctl): the kernel drops the lock.
  overlapDetectingSysctl(s, '10');
  for (const [k, v] of Object.entries(HOSTILE)) s.setKernel(k, v);
  const script = `${process.execPath} ${CLI} apply >/dev/null 2>&1 & pid=$!; ${whileHeld(s)} kill -9 $pid; wait $pid; echo "killed=$?"; ${process.execPath} ${CLI} check >/dev/null; echo "check=$?"`;
  const killed = await s.exec(['sh', '-c', script]);
  t.regex(killed.stdout, /killed=137/);
  t.regex(killed.stdout, /check=1/, 'the killed run did not finish');
  s.setup = [];
  const after = await s.cli('apply', '--wait', '0');
  t.is(after.exitCode, 0, after.stderr);
  s.dispose();
});

it('under --root the root directory is locked: image runs contend with each other, not with the live host', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const image = s.path('image');
  fs.mkdirpSync(image);
  // The live host's apply runs while the image is still locked.
  const script = whileLocked(
    s,
    image,
    `${process.execPath} ${CLI} apply --root ${image} --wait 0.5; echo "image=$?"; ${process.execPath} ${CLI} apply --wait 0 >/dev/null; echo "live=$?"`,
  );
  const r = await s.exec(['sh', '-c', script]);
  t.regex(r.stdout, /image=3/);
  t.regex(r.stderr, new RegExp(`another run holds the lock on ${image.replace(/[.]/g, '\\.')}; waited 0\\.5s`));
  t.regex(r.stdout, /live=0/);
  t.deepEqual(fs.readdirSync(image), [], 'nothing was written into the image, not even a lock file');
  const free = await s.cli('apply', '--root', image, '--wait', '0');
  t.is(free.exitCode, 0, free.stderr);
  t.false(fs.existsSync(path.join(image, 'run')), 'the image gets no lock file');
  s.dispose();
});

it('--wait is checked and taken by apply only; check and plan take no lock', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  for (const args of [
    ['apply', '--wait', 'soon'],
    ['apply', '--wait', '-1'],
    ['apply', '--wait', '100000'],
    ['check', '--wait', '1'],
    ['plan', '--wait', '1'],
  ]) {
    const r = await s.cli(...args);
    t.is(r.exitCode, 2, args.join(' '));
    t.regex(r.stderr, /--wait/, args.join(' '));
  }
  // A held lock does not stop a reader.
  fs.mkdirpSync(s.path('run/k3s-hostprep'), { mode: 0o700 });
  const r = await s.exec([
    'sh',
    '-c',
    whileLocked(
      s,
      '/run/k3s-hostprep/apply.lock',
      `${process.execPath} ${CLI} check >/dev/null; echo "check=$?"; ${process.execPath} ${CLI} plan >/dev/null; echo "plan=$?"`,
    ),
  ]);
  t.regex(r.stdout, /check=1\nplan=1/);
  s.dispose();
});

it('an apply with nothing to change takes no lock and waits for no run; one with a change still waits, and plans again under the lock', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  t.is((await s.cli('apply')).exitCode, 0);
  fs.mkdirpSync(s.path('run/k3s-hostprep'), { mode: 0o700 });
  const held = (command: string) => s.exec(['sh', '-c', whileLocked(s, '/run/k3s-hostprep/apply.lock', `${process.execPath} ${CLI} ${command}; echo "rc=$?"`)]);
  // Converged: the held lock does not matter, and the report is apply's.
  const noop = await held('apply --wait 0 --json');
  t.regex(noop.stdout, /rc=0\n$/);
  const report = JSON.parse(noop.stdout.replace(/rc=0\n$/, '')) as { command: string; compliant: boolean; summary: { changes: number } };
  t.like(report, { command: 'apply', compliant: true, summary: { changes: 0 } });
  // One kernel value drifted: that apply must wait for the holder, and gives up after --wait.
  s.setKernel('kernel.panic', '0');
  const drifted = await held('apply --wait 0.5');
  t.regex(drifted.stdout, /rc=3\n$/);
  t.regex(drifted.stderr, /another run holds the lock on \/run\/k3s-hostprep\/apply\.lock/);
  t.is(s.kernel('kernel.panic'), '0', 'nothing was changed without the lock');
  // Free again: it converges.
  const free = await s.cli('apply', '--wait', '0');
  t.is(free.exitCode, 0, free.stderr);
  t.is(s.kernel('kernel.panic'), '10');
  s.dispose();
});
