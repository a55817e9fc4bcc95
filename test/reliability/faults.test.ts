/**
 * Faults from the host and privilege, through the built command in a private mount namespace.
 * Every fault starts from a host that a first apply made compliant with one configuration (the
 * "old files"); then the kernel drifts and apply runs again with another configuration. Each
 * fault must end in exit 3 with one line on standard error, the kernel-parameters file intact
 * (same inode, same text), and no temporary file left.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { CLI, COMPLIANT, HOSTILE, Sandbox, asNobody, isRoot } from '../helpers/sandbox.js';
import { CONFIG_A, CONFIG_B } from '../helpers/crash.js';

const it = isRoot() ? test : test.skip;
const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';
const AUDIT = '/var/lib/rancher/k3s/server/audit.yaml';

interface Prepared {
  s: Sandbox;
  a: string;
  b: string;
  oldSysctl: { ino: number; text: string };
}

/** A host made compliant with config A, whose kernel then drifted back to hostile values. */
async function prepared(t: { is: (a: unknown, b: unknown, m?: string) => void }): Promise<Prepared> {
  const s = new Sandbox({ kernel: { ...HOSTILE, 'net.ipv4.ip_forward': '0' } });
  const a = s.path('config-a.yaml');
  const b = s.path('config-b.yaml');
  fs.writeFileSync(a, CONFIG_A);
  fs.writeFileSync(b, CONFIG_B);
  const first = await s.cli('apply', '--config', a);
  t.is(first.exitCode, 0, first.stdout);
  for (const [k, v] of Object.entries(HOSTILE)) s.setKernel(k, v);
  const file = s.host(SYSCTL_FILE);
  return { s, a, b, oldSysctl: { ino: fs.statSync(file).ino, text: fs.readFileSync(file, 'utf8') } };
}

function assertOldSysctlIntact(t: { is: (a: unknown, b: unknown, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void }, p: Prepared): void {
  const file = p.s.host(SYSCTL_FILE);
  t.is(fs.statSync(file).ino, p.oldSysctl.ino, 'the old file was not replaced');
  t.is(fs.readFileSync(file, 'utf8'), p.oldSysctl.text, 'the old file is whole');
  t.deepEqual(p.s.list('etc-sysctl.d').filter((n) => n.includes('.tmp')), [], 'no temporary file left');
}

function oneLine(t: { is: (a: unknown, b: unknown, m?: string) => void }, stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  t.is(lines.length, 1, `one line on standard error: ${stderr}`);
  return lines[0]!;
}

it('read-only /proc/sys: exit 3 before anything is written, with one line that says so', async (t) => {
  const p = await prepared(t);
  p.s.setup.push('mount -n -o remount,ro,bind /proc/sys');
  const r = await p.s.cli('apply', '--config', p.b);
  t.is(r.exitCode, 3, r.stdout);
  t.regex(oneLine(t, r.stderr), /^k3s-hostprep: apply: HOST ERROR: \[kernel-parameters\] cannot change vm\.overcommit_memory: \/proc\/sys\/vm\/overcommit_memory is on a read-only file system/);
  t.regex(r.stdout, /Verdict: HOST ERROR/);
  assertOldSysctlIntact(t, p);
  t.is(p.s.kernel('kernel.panic'), '-1');
  p.s.dispose();
});

it('a kernel without /proc/sys/kernel/keys: exit 3, the missing keys named, nothing written for them', async (t) => {
  const p = await prepared(t);
  fs.rmSync(p.s.path('proc-sys/kernel/keys'), { recursive: true });
  const r = await p.s.cli('apply', '--config', p.b);
  t.is(r.exitCode, 3, r.stdout);
  t.regex(oneLine(t, r.stderr), /^k3s-hostprep: apply: HOST ERROR: \[kernel-parameters\] cannot read \/proc\/sys\/kernel\/keys\/root_maxkeys: ENOENT.*the kubelet cannot start without it \(and \d+ more; the report above lists them\)$/);
  assertOldSysctlIntact(t, p);
  t.is(p.s.kernel('kernel.panic'), '-1', 'no sysctl -p of a file the kernel cannot hold');
  p.s.dispose();
});

it('no sysctl binary: exit 3 with one line, the file (unchanged) intact', async (t) => {
  const p = await prepared(t);
  p.s.hide('/usr/sbin/sysctl');
  const r = await p.s.exec([process.execPath, CLI, 'apply', '--config', p.a]);
  t.is(r.exitCode, 3, r.stdout + r.stderr);
  t.regex(oneLine(t, r.stderr), /^k3s-hostprep: apply: HOST ERROR: kernel-parameters: sysctl -p \/etc\/sysctl\.d\/90-kubelet\.conf could not be started: sysctl was not found as a root-owned executable in .* \(install procps\)/);
  assertOldSysctlIntact(t, p);
  p.s.dispose();
});

it('sysctl that exits non-zero: exit 3 with its message on one line', async (t) => {
  const p = await prepared(t);
  p.s.program('sysctl', '#!/bin/sh\necho "sysctl: permission denied on key \\"kernel.panic\\"" >&2\nexit 255\n');
  const r = await p.s.cli('apply', '--config', p.a);
  t.is(r.exitCode, 3, r.stdout);
  t.regex(oneLine(t, r.stderr), /^k3s-hostprep: apply: HOST ERROR: kernel-parameters: \/usr\/local\/sbin\/sysctl -p \/etc\/sysctl\.d\/90-kubelet\.conf exited 255: sysctl: permission denied on key "kernel\.panic"/);
  assertOldSysctlIntact(t, p);
  t.is(p.s.kernel('kernel.panic'), '-1');
  p.s.dispose();
});

it('a full disk during the write: exit 3, the old file whole, no temporary file, sysctl not run', async (t) => {
  const p = await prepared(t);
  const old = p.oldSysctl.text;
  fs.writeFileSync(p.s.path('old.conf'), old);
  // A 2-page tmpfs over /etc/sysctl.d holding the old file and a filler that takes the rest.
  p.s.setup.push(
    'mount -n -t tmpfs -o size=8k,mode=0755 tmpfs /etc/sysctl.d',
    `cp ${p.s.path('old.conf')} /etc/sysctl.d/90-kubelet.conf && chmod 0600 /etc/sysctl.d/90-kubelet.conf`,
    'dd if=/dev/zero of=/etc/sysctl.d/filler bs=1k count=64 2>/dev/null || true',
  );
  const r = await p.s.exec(['sh', '-c', `${process.execPath} ${CLI} apply --config ${p.b}; echo "rc=$?"; cat /etc/sysctl.d/90-kubelet.conf > ${p.s.path('after.conf')}; ls -a /etc/sysctl.d`]);
  t.regex(r.stdout, /rc=3/);
  t.regex(oneLine(t, r.stderr), /^k3s-hostprep: apply: HOST ERROR: kernel-parameters: file \/etc\/sysctl\.d\/90-kubelet\.conf: ENOSPC: no space left on device/);
  t.is(fs.readFileSync(p.s.path('after.conf'), 'utf8'), old, 'the old file is whole');
  t.notRegex(r.stdout, /\.tmp/, 'the temporary file was removed');
  t.is(p.s.kernel('kernel.panic'), '-1', 'sysctl did not run after the failed write');
  p.s.dispose();
});

it('apply as an unprivileged user stops before any change with "must run as root"', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write('/etc/k3s-hostprep/config.yaml', 'role: server\n', 0o600);
  const r = await s.exec(asNobody('apply'));
  t.is(r.exitCode, 3);
  t.is(r.stderr, 'k3s-hostprep: apply must run as root: nothing was changed\n');
  t.deepEqual(s.list('etc-sysctl.d'), []);
  t.deepEqual(s.list('var-lib'), []);
  t.deepEqual(s.list('run'), []);
  t.is(s.kernel('kernel.panic'), '-1');
  s.dispose();
});

it('check as an unprivileged user reports what it could read and marks the rest unreadable', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  t.is((await s.cli('apply')).exitCode, 0);
  const nobodyCheck = asNobody('check', '--json');
  const r = await s.exec(nobodyCheck);
  t.is(r.exitCode, 3, 'compliant as far as it could see, but incomplete');
  const report = JSON.parse(r.stdout);
  const findings = report.controls.flatMap((c: { findings: unknown[] }) => c.findings) as Array<{ item: string; status: string; actual: string; reason: string }>;
  for (const key of Object.keys(COMPLIANT)) t.is(findings.find((f) => f.item === key)?.status, 'pass', `${key} was read`);
  const unreadable = findings.filter((f) => f.status === 'error');
  t.true(unreadable.some((f) => f.item === SYSCTL_FILE && /EACCES/.test(f.reason)), 'the 0600 sysctl file is marked unreadable');
  t.true(unreadable.some((f) => f.item === AUDIT), 'the audit policy under the 0700 server directory is marked unreadable');
  t.true(unreadable.every((f) => f.actual.startsWith('unreadable') || f.actual.startsWith('unknown')));
  t.is(report.summary.fail, 0);
  const text = await s.exec(nobodyCheck.slice(0, -1));
  t.regex(text.stdout, /Verdict: INCOMPLETE: \d+ item\(s\) could not be read \(as a non-root user, run check as root for a full verdict\); everything that could be read passes/);
  // A failure it can see wins over what it cannot read: exit 1.
  s.setKernel('kernel.panic', '0');
  const failing = await s.exec(nobodyCheck);
  t.is(failing.exitCode, 1);
  t.is(JSON.parse(failing.stdout).controls.find((c: { id: string }) => c.id === 'kernel-parameters').findings.find((f: { item: string }) => f.item === 'kernel.panic').status, 'fail');
  s.dispose();
});

it('temporary files of a killed run are never read by sysctl, and the next apply removes them', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  t.is((await s.cli('apply')).exitCode, 0);
  const temps = [
    '/etc/sysctl.d/.90-kubelet.conf.k3s-hostprep-4242-deadbeef.tmp',
    '/var/lib/rancher/k3s/server/.audit.yaml.k3s-hostprep-4242-0badc0de.tmp',
    '/etc/sysctl.d/.90-kubelet.conf.k3s-hostprep-backup-20260101T000000Z.k3s-hostprep-4243-01234567.tmp',
  ];
  for (const temp of temps) s.write(temp, 'kernel.panic=-1\nvm.overcommit_memory=0\n', 0o600);
  // A file that only looks like one is not ours to remove.
  s.write('/etc/sysctl.d/.90-kubelet.conf.k3s-hostprep-1-xyz.tmp', 'not ours\n');
  const system = await s.exec(['sysctl', '--system']);
  t.is(system.exitCode, 0, system.stderr);
  t.is(s.kernel('kernel.panic'), '10', 'sysctl --system did not read the temporary file');
  const check = await s.cli('check');
  t.is(check.exitCode, 0, 'the boot-order control ignores them too');
  const plan = await s.cli('plan');
  for (const temp of temps) t.true(plan.stdout.includes(`remove ${temp} (temporary file left by an interrupted run)`), temp);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0);
  for (const temp of temps) t.false(fs.existsSync(s.host(temp)), temp);
  t.true(fs.existsSync(s.host('/etc/sysctl.d/.90-kubelet.conf.k3s-hostprep-1-xyz.tmp')));
  s.dispose();
});

it('a symlink at a target through the built command: refused, named, and the file it points at untouched', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const decoy = s.write('/etc/k3s-hostprep-decoy.conf', 'precious\n', 0o644);
  const before = fs.statSync(decoy);
  fs.mkdirpSync(s.host('/var/lib/rancher/k3s/server'));
  fs.symlinkSync('/etc/k3s-hostprep-decoy.conf', s.host(SYSCTL_FILE));
  fs.symlinkSync('/etc/k3s-hostprep-decoy.conf', s.host(AUDIT));
  const r = await s.cli('apply', '--force');
  t.is(r.exitCode, 1, r.stderr);
  for (const target of [SYSCTL_FILE, AUDIT]) {
    t.true(r.stdout.includes(`${target}: ${target} is a symlink; k3s-hostprep never writes through one`), target);
    t.true(fs.lstatSync(s.host(target)).isSymbolicLink());
  }
  const after = fs.statSync(decoy);
  t.is(fs.readFileSync(decoy, 'utf8'), 'precious\n');
  t.is(after.mtimeMs, before.mtimeMs);
  t.is(after.mode & 0o7777, 0o644);
  t.is(s.kernel('kernel.panic'), '-1', 'no sysctl -p through a file that is not ours');
  s.dispose();
});
