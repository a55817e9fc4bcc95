/**
 * Faults from the host and privilege, through the built command in a private mount namespace:
 * the scenario table in helpers/faults.ts (shared with scripts/reliability.mjs), then what only
 * some faults have to say.
 */
import test from 'ava';
import fs from 'fs-extra';
import { COMPLIANT, HOSTILE, Sandbox, asNobody, isRoot } from '../helpers/sandbox.js';
import { FAULTS, runFault } from '../helpers/faults.js';

const it = isRoot() ? test : test.skip;
const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';
const AUDIT = '/var/lib/rancher/k3s/server/audit.yaml';

for (const scenario of FAULTS) {
  it(`${scenario.name}: exit 3 with one line naming the cause, the old file whole, no temporary file`, async (t) => {
    const r = await runFault(scenario);
    t.is(r.exitCode, 3, r.stdout + r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    t.is(lines.length, 1, `one line on standard error: ${r.stderr}`);
    t.regex(lines[0]!, scenario.line);
    t.true(r.oldFileIntact, 'the old kernel-parameters file was not replaced and is whole');
    t.deepEqual(r.tempsLeft, [], 'no temporary file left');
    if (scenario.kernelUntouched) t.is(r.kernelPanic, '-1', 'nothing was applied to the kernel');
  });
}

it('read-only /proc/sys is found before anything is written, and the report says HOST ERROR', async (t) => {
  const r = await runFault(FAULTS.find((f) => f.name === 'read-only /proc/sys')!);
  t.regex(r.stdout, /Verdict: HOST ERROR/);
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
  const findings = report.controls.flatMap((c: { findings: unknown[] }) => c.findings) as Array<{
    item: string;
    status: string;
    actual: string;
    reason: string;
  }>;
  for (const key of Object.keys(COMPLIANT)) t.is(findings.find((f) => f.item === key)?.status, 'pass', `${key} was read`);
  const unreadable = findings.filter((f) => f.status === 'error');
  t.true(
    unreadable.some((f) => f.item === SYSCTL_FILE && /EACCES/.test(f.reason)),
    'the 0600 sysctl file is marked unreadable',
  );
  t.true(
    unreadable.some((f) => f.item === AUDIT),
    'the audit policy under the 0700 server directory is marked unreadable',
  );
  t.true(unreadable.every((f) => f.actual.startsWith('unreadable') || f.actual.startsWith('unknown')));
  t.is(report.summary.fail, 0);
  const text = await s.exec(nobodyCheck.slice(0, -1));
  t.regex(
    text.stdout,
    /Verdict: INCOMPLETE: \d+ item\(s\) could not be read \(as a non-root user, run check as root for a full verdict\); everything that could be read passes/,
  );
  // A failure it can see wins over what it cannot read: exit 1.
  s.setKernel('kernel.panic', '0');
  const failing = await s.exec(nobodyCheck);
  t.is(failing.exitCode, 1);
  t.is(
    JSON.parse(failing.stdout)
      .controls.find((c: { id: string }) => c.id === 'kernel-parameters')
      .findings.find((f: { item: string }) => f.item === 'kernel.panic').status,
    'fail',
  );
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
