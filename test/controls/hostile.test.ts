/**
 * A hostile filesystem under every target of every control: symlinks, a directory where a file
 * belongs and the other way round, directories owned by another user or writable by others.
 * The targets are taken from a plan of the shipped controls on a fresh host, so a new control
 * that writes through managed.ts is covered without a change here.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIRECTORIES } from '../../src/controls/directories.js';
import { run } from '../../src/engine.js';
import type { Command, Report } from '../../src/report/model.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

const ROLE = { role: 'server' as const, source: 'test' };

async function runOn(host: TestHost, command: Command): Promise<Report> {
  return run(context(host), { command, roleChoice: ROLE, facts: false });
}

/** Every file the shipped controls write on a fresh host. */
async function fileTargets(): Promise<string[]> {
  const host = new TestHost(COMPLIANT);
  const report = await runOn(host, 'plan');
  return report.controls.flatMap((c) => c.changes).flatMap((c) => (c.kind === 'file' ? [c.path] : []));
}

function findingsFor(report: Report, item: string) {
  return report.controls.flatMap((c) => c.findings).filter((f) => f.item === item);
}

/** A decoy inside the root that a symlink points at; returns a fingerprint to compare after. */
function decoy(host: TestHost, kind: 'file' | 'dir'): { link: string; fingerprint: () => string } {
  const logical = kind === 'file' ? '/decoy/file.txt' : '/decoy/dir';
  const real = host.file(logical);
  fs.mkdirSync(path.dirname(real), { recursive: true });
  if (kind === 'file') fs.writeFileSync(real, 'precious\n', { mode: 0o644 });
  else fs.mkdirSync(real, { mode: 0o755 });
  const fingerprint = () => {
    const st = fs.statSync(real);
    const listing = kind === 'dir' ? fs.readdirSync(real).join(',') : fs.readFileSync(real, 'utf8');
    return `${st.ino}:${st.mtimeMs}:${(st.mode & 0o7777).toString(8)}:${st.uid}:${listing}`;
  };
  return { link: logical, fingerprint };
}

test('the plan of a fresh host names the files the hostile cases below are run against', async (t) => {
  const files = await fileTargets();
  t.true(files.includes('/etc/sysctl.d/90-kubelet.conf'));
  t.true(files.includes('/var/lib/rancher/k3s/server/audit.yaml'));
});

test('a symlink at any file target is refused, named, and nothing is written through it', async (t) => {
  for (const target of await fileTargets()) {
    const host = new TestHost(COMPLIANT);
    const d = decoy(host, 'file');
    const before = d.fingerprint();
    fs.mkdirSync(path.dirname(host.file(target)), { recursive: true });
    fs.symlinkSync(d.link, host.file(target));
    for (const command of ['apply', 'check', 'plan'] as const) {
      const report = await runOn(host, command);
      const finding = findingsFor(report, target).find((f) => f.status === 'fail');
      t.truthy(finding, `${command} ${target}`);
      t.regex(finding!.reason, /is a symlink; k3s-hostprep never writes through one/, target);
      t.is(finding!.actual, `a symlink to ${d.link}`);
      t.not(report.exitCode, 0);
    }
    t.is(d.fingerprint(), before, `${target}: the decoy is untouched`);
    t.true(fs.lstatSync(host.file(target)).isSymbolicLink(), `${target}: the link is left for the operator`);
  }
});

test('a symlink at the directory a file lives in, or at a directory k3s-hostprep owns, is refused', async (t) => {
  const dirs = [...new Set((await fileTargets()).map((f) => path.dirname(f))), ...DIRECTORIES.map((d) => d.path)];
  t.true(dirs.includes('/etc/sysctl.d') && dirs.includes('/var/lib/rancher/k3s/server/manifests') && dirs.includes('/var/lib/rancher/k3s/server/logs'));
  for (const dir of dirs) {
    const host = new TestHost(COMPLIANT);
    const d = decoy(host, 'dir');
    const before = d.fingerprint();
    fs.mkdirSync(path.dirname(host.file(dir)), { recursive: true });
    fs.symlinkSync(d.link, host.file(dir));
    const report = await runOn(host, 'apply');
    t.is(report.exitCode, 1, dir);
    const reasons = report.controls
      .flatMap((c) => c.findings)
      .filter((f) => f.status === 'fail')
      .map((f) => f.reason)
      .join('\n');
    t.true(reasons.includes(`${dir} is a symlink`), `${dir}: ${reasons}`);
    t.is(d.fingerprint(), before, `${dir}: nothing was written into the decoy`);
  }
});

test('a directory where a file belongs is refused and left as it is', async (t) => {
  for (const target of await fileTargets()) {
    const host = new TestHost(COMPLIANT);
    fs.mkdirSync(host.file(target), { recursive: true });
    fs.writeFileSync(path.join(host.file(target), 'inside'), 'x');
    const report = await runOn(host, 'apply');
    t.is(report.exitCode, 1);
    const f = findingsFor(report, target).find((x) => x.status === 'fail');
    t.regex(f?.reason ?? '', /is not a regular file/, target);
    t.deepEqual(fs.readdirSync(host.file(target)), ['inside']);
  }
});

test('a file where a directory belongs is refused, at the directory or on the way to it', async (t) => {
  for (const blocker of ['/var/lib/rancher/k3s/server/manifests', '/var/lib/rancher/k3s', '/etc/sysctl.d']) {
    const host = new TestHost(COMPLIANT);
    fs.mkdirSync(path.dirname(host.file(blocker)), { recursive: true });
    fs.writeFileSync(host.file(blocker), 'not a directory\n');
    const report = await runOn(host, 'apply');
    t.is(report.exitCode, 1, blocker);
    const reasons = report.controls
      .flatMap((c) => c.findings)
      .filter((f) => f.status === 'fail')
      .map((f) => f.reason)
      .join('\n');
    t.regex(reasons, new RegExp(`${blocker.replace(/\./g, '\\.')} (exists and )?is (not a directory|in the way)`), blocker);
    t.is(fs.readFileSync(host.file(blocker), 'utf8'), 'not a directory\n');
  }
});

test('a directory another user owns, or that others can write, is refused when k3s-hostprep does not own it', async (t) => {
  const cases: Array<{ dir: string; setup: (p: string) => void; says: RegExp; file: string }> = [
    { dir: '/etc/sysctl.d', setup: (p) => fs.chownSync(p, 1000, 1000), says: /\/etc\/sysctl\.d is owned by uid 1000/, file: '/etc/sysctl.d/90-kubelet.conf' },
    {
      dir: '/etc/sysctl.d',
      setup: (p) => fs.chmodSync(p, 0o777),
      says: /\/etc\/sysctl\.d is world-writable \(mode 0777\)/,
      file: '/etc/sysctl.d/90-kubelet.conf',
    },
    {
      dir: '/etc/sysctl.d',
      setup: (p) => fs.chmodSync(p, 0o1777),
      says: /\/etc\/sysctl\.d is world-writable \(mode 1777\)/,
      file: '/etc/sysctl.d/90-kubelet.conf',
    },
    {
      dir: '/etc/sysctl.d',
      setup: (p) => {
        fs.chownSync(p, 0, 1000);
        fs.chmodSync(p, 0o775);
      },
      says: /\/etc\/sysctl\.d is writable by group 1000 \(mode 0775\)/,
      file: '/etc/sysctl.d/90-kubelet.conf',
    },
    { dir: '/etc', setup: (p) => fs.chmodSync(p, 0o757), says: /\/etc is world-writable/, file: '/etc/sysctl.d/90-kubelet.conf' },
    {
      dir: '/var/lib/rancher/k3s/server',
      setup: (p) => fs.chownSync(p, 1000, 0),
      says: /\/var\/lib\/rancher\/k3s\/server is owned by uid 1000/,
      file: '/var/lib/rancher/k3s/server/audit.yaml',
    },
    { dir: '/var/lib', setup: (p) => fs.chmodSync(p, 0o777), says: /\/var\/lib is world-writable/, file: '/var/lib/rancher/k3s/server/audit.yaml' },
  ];
  for (const c of cases) {
    const host = new TestHost(COMPLIANT);
    fs.mkdirSync(host.file(c.dir), { recursive: true, mode: 0o755 });
    if (c.dir === '/var/lib') fs.mkdirSync(host.file('/var/lib/rancher/k3s/server'), { recursive: true, mode: 0o700 });
    c.setup(host.file(c.dir));
    const report = await runOn(host, 'apply');
    // /var/lib also holds the record of what k3s-hostprep wrote: that it cannot be kept is a host error too.
    t.is(report.exitCode, c.dir === '/var/lib' ? 3 : 1, c.dir);
    const reasons = report.controls
      .flatMap((x) => x.findings)
      .map((f) => f.reason)
      .join('\n');
    t.regex(reasons, c.says, `${c.dir}: ${reasons}`);
    t.false(fs.existsSync(host.file(c.file)), `${c.file} was not written`);
    const dir = host.file(path.dirname(c.file));
    t.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.includes('k3s-hostprep')) : [], [], 'no temporary file either');
    const check = await runOn(host, 'check');
    t.regex(
      check.controls
        .flatMap((x) => x.findings)
        .map((f) => f.reason)
        .join('\n'),
      c.says,
      `check says so too: ${c.dir}`,
    );
  }
});

test('a group-writable directory of the root group is accepted; a file in an unsafe directory fails check', async (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirSync(host.file('/etc/sysctl.d'), { recursive: true });
  fs.chmodSync(host.file('/etc/sysctl.d'), 0o775);
  const report = await runOn(host, 'apply');
  t.is(report.exitCode, 0, JSON.stringify(report.hostErrors));
  fs.chmodSync(host.file('/etc/sysctl.d'), 0o777);
  const check = await runOn(host, 'check');
  const f = findingsFor(check, '/etc/sysctl.d/90-kubelet.conf')[0]!;
  t.is(f.status, 'fail');
  t.regex(f.reason, /world-writable/);
});

test('a directory k3s-hostprep owns that others could write is tightened, and the report says so', async (t) => {
  const host = new TestHost(COMPLIANT);
  for (const d of DIRECTORIES) {
    fs.mkdirSync(host.file(d.path), { recursive: true, mode: 0o700 });
    fs.chmodSync(host.file(d.path), 0o777);
    fs.chownSync(host.file(d.path), 1000, 1000);
  }
  const report = await runOn(host, 'apply');
  t.is(report.exitCode, 0);
  const changes = report.controls.flatMap((c) => c.changes);
  for (const d of DIRECTORIES) {
    t.truthy(changes.find((c) => c.kind === 'chmod' && c.path === d.path && c.from === 0o777 && c.to === 0o700));
    t.truthy(changes.find((c) => c.kind === 'chown' && c.path === d.path));
    const st = fs.statSync(host.file(d.path));
    t.is(st.mode & 0o7777, 0o700);
    t.is(st.uid, 0);
  }
});
