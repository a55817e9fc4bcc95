/**
 * The built command, run in a private mount namespace against fake kernel files and a
 * throw-away /etc, /var/lib and /run, with the real sysctl binary (see helpers/sandbox.ts).
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { COMPLIANT, HOSTILE, Sandbox, isRoot } from './helpers/sandbox.js';

const it = isRoot() ? test : test.skip;
const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';
const MANIFESTS = '/var/lib/rancher/k3s/server/manifests';
const LOGS = '/var/lib/rancher/k3s/server/logs';
const AUDIT = '/var/lib/rancher/k3s/server/audit.yaml';

/** A sysctl in /usr/local/sbin that logs each call, then runs the real one. */
function withSysctlLog(s: Sandbox): string {
  const log = s.path('sysctl.log');
  s.program('sysctl', `#!/bin/sh\necho "$*" >> ${log}\nexec /usr/sbin/sysctl "$@"\n`);
  return log;
}

function snapshot(s: Sandbox, p: string) {
  const st = fs.statSync(s.host(p));
  return { ino: st.ino, mtime: st.mtimeMs, mode: st.mode & 0o7777 };
}

it('apply brings a hostile host to compliance, with the real sysctl, and check agrees', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const log = withSysctlLog(s);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  t.regex(apply.stdout, /Verdict: COMPLIANT/);
  for (const [key, value] of Object.entries(COMPLIANT)) t.is(s.kernel(key), value, key);
  t.is(fs.readFileSync(log, 'utf8'), `-p ${SYSCTL_FILE}\n`);
  t.is(snapshot(s, SYSCTL_FILE).mode, 0o600);
  t.is(snapshot(s, MANIFESTS).mode, 0o700);
  t.is(snapshot(s, LOGS).mode, 0o700);
  t.is(snapshot(s, AUDIT).mode, 0o600);
  const check = await s.cli('check', '--json');
  t.is(check.exitCode, 0, check.stdout);
  const report = JSON.parse(check.stdout);
  t.true(report.compliant);
  t.is(report.summary.fail, 0);
  t.is(report.role, 'server');
  t.regex(report.roleSource, /^default/);
  s.dispose();
});

it("check on the hostile host fails with the kubelet's own words and changes nothing", async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const check = await s.cli('check');
  t.is(check.exitCode, 1);
  t.regex(check.stdout, /invalid kernel flag: vm\/overcommit_memory, expected value: 1, actual value: 0/);
  t.regex(check.stdout, /invalid kernel flag: kernel\/panic, expected value: 10, actual value: -1/);
  t.is(s.kernel('vm.overcommit_memory'), '0');
  t.deepEqual(s.list('etc-sysctl.d'), []);
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  s.dispose();
});

it('a conflicting 99-*.conf makes check exit 1 and names the file and line', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  t.is((await s.cli('apply')).exitCode, 0);
  s.write('/etc/sysctl.d/99-tuning.conf', '# local tuning\nvm.overcommit_memory = 2\n');
  const check = await s.cli('check');
  t.is(check.exitCode, 1);
  t.regex(check.stdout, /\/etc\/sysctl\.d\/99-tuning\.conf:2 sets vm\.overcommit_memory=2/);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 1, "apply does not edit other people's files");
  t.is(fs.readFileSync(s.host('/etc/sysctl.d/99-tuning.conf'), 'utf8'), '# local tuning\nvm.overcommit_memory = 2\n');
  s.dispose();
});

it('a second apply writes no file, runs no sysctl and says there was nothing to change', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const log = withSysctlLog(s);
  t.is((await s.cli('apply')).exitCode, 0);
  const before = [SYSCTL_FILE, MANIFESTS, LOGS, AUDIT].map((p) => snapshot(s, p));
  const listing = s.list('var-lib');
  const second = await s.cli('apply');
  t.is(second.exitCode, 0);
  t.regex(second.stdout, /Changes: nothing to change\./);
  t.deepEqual(
    [SYSCTL_FILE, MANIFESTS, LOGS, AUDIT].map((p) => snapshot(s, p)),
    before,
  );
  // Its own state aside: a run it keeps for replay (src/replay/), when the files it read are older than the racy margin.
  const managed = (names: string[]) => names.filter((n) => !/^k3s-hostprep\/last-(check|apply)(-[0-9a-f]{8})?\.json$/.test(n));
  t.deepEqual(managed(s.list('var-lib')), managed(listing));
  t.is(fs.readFileSync(log, 'utf8').trim().split('\n').length, 1, 'only the first apply ran sysctl');
  const json = JSON.parse((await s.cli('apply', '--json')).stdout);
  t.is(json.summary.changes, 0);
  s.dispose();
});

it('--root prepares an offline root and touches nothing outside it', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const image = s.path('image');
  fs.mkdirpSync(path.join(image, 'etc'));
  fs.writeFileSync(path.join(image, 'etc/os-release'), 'PRETTY_NAME="Image Linux 1"\n');
  const apply = await s.cli('apply', '--root', image, '--json');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  const report = JSON.parse(apply.stdout);
  t.is(report.root, image);
  t.is(report.host.distribution, 'Image Linux 1');
  const live = report.controls.find((c: { id: string }) => c.id === 'kernel-parameters').findings.filter((f: { item: string }) => !f.item.startsWith('/'));
  t.is(live.length, 6);
  t.true(live.every((f: { status: string }) => f.status === 'skip'));
  t.true(fs.existsSync(path.join(image, SYSCTL_FILE)));
  t.is(fs.statSync(path.join(image, MANIFESTS)).mode & 0o7777, 0o700);
  t.is(fs.statSync(path.join(image, AUDIT)).mode & 0o7777, 0o600);
  for (const [key, value] of Object.entries(HOSTILE)) t.is(s.kernel(key), value, `${key} untouched`);
  t.deepEqual(s.list('etc-sysctl.d'), []);
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  t.deepEqual(s.list('etc-upper'), []);
  t.deepEqual(s.list('run'), []);
  const check = await s.cli('check', '--root', image);
  t.is(check.exitCode, 0, check.stdout);
  s.dispose();
});

it('an absolute symlink inside --root stays inside the root', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const image = s.path('image');
  fs.mkdirpSync(path.join(image, 'data/rancher'));
  fs.mkdirpSync(path.join(image, 'var/lib'));
  fs.symlinkSync('/data/rancher', path.join(image, 'var/lib/rancher'));
  const apply = await s.cli('apply', '--root', image);
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  t.true(fs.statSync(path.join(image, 'data/rancher/k3s/server/manifests')).isDirectory());
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  s.dispose();
});

it('a bad configuration exits 2, names the file and key, and writes nothing', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write('/etc/k3s-hostprep/config.yaml', 'role: server\naudit:\n  polcy: {}\n');
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 2);
  t.regex(apply.stderr, /\/etc\/k3s-hostprep\/config\.yaml: audit\.polcy: unknown key \(did you mean "policy"\?\)/);
  t.deepEqual(s.list('etc-sysctl.d'), []);
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  t.deepEqual(s.list('etc-upper'), ['k3s-hostprep', 'k3s-hostprep/config.yaml']);
  t.is(s.kernel('kernel.panic'), '-1');

  const bad = s.path('bad.yaml');
  fs.writeFileSync(bad, 'role: [\n');
  const r2 = await s.cli('apply', '--config', bad, '--json');
  t.is(r2.exitCode, 2);
  t.is(JSON.parse(r2.stdout).error.type, 'ConfigError');
  const r3 = await s.cli('apply', '--config', s.path('missing.yaml'));
  t.is(r3.exitCode, 2);
  t.regex(r3.stderr, /missing\.yaml: cannot read the configuration file: ENOENT/);
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  s.dispose();
});

it('bad flags exit 2 with a usage message', async (t) => {
  const s = new Sandbox();
  for (const args of [['apply', '--rol', 'agent'], ['apply', '--role', 'master'], ['frobnicate'], ['check', '--force'], ['render', 'nope'], []]) {
    const r = await s.cli(...args);
    t.is(r.exitCode, 2, args.join(' '));
    t.true(r.stderr.length > 0, args.join(' '));
  }
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  s.dispose();
});

it('a foreign 90-kubelet.conf fails apply, and --force replaces it after a backup', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(SYSCTL_FILE, 'vm.panic_on_oom=0\nvm.overcommit_memory=1\nkernel.panic=10\nkernel.panic_on_oops=1\n');
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 1);
  t.regex(
    apply.stdout,
    /90-kubelet\.conf was not written by k3s-hostprep, and not every value in it is right: no kernel\.keys\.root_maxkeys \(expected 1000000\), no kernel\.keys\.root_maxbytes \(expected 25000000\); it is left alone/,
  );
  t.is(s.kernel('kernel.panic'), '-1', 'no sysctl while the file is in dispute');
  const forced = await s.cli('apply', '--force');
  t.is(forced.exitCode, 0, forced.stdout);
  const backups = s.list('etc-sysctl.d').filter((n) => n.includes('.k3s-hostprep-backup-'));
  t.is(backups.length, 1);
  t.regex(fs.readFileSync(s.path('etc-sysctl.d', backups[0]!), 'utf8'), /^vm\.panic_on_oom=0\n/);
  t.regex(forced.stdout, /backup kept: \/etc\/sysctl\.d\/90-kubelet\.conf\.k3s-hostprep-backup-/);
  t.is(s.kernel('kernel.keys.root_maxkeys'), '1000000');
  s.dispose();
});

it('plan prints a diff and a line per directory and kernel value, and changes nothing', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const plan = await s.cli('plan');
  t.is(plan.exitCode, 1);
  t.regex(plan.stdout, /--- \/dev\/null\n\+\+\+ \/etc\/sysctl\.d\/90-kubelet\.conf/);
  t.regex(plan.stdout, /\n\+kernel\.panic=10\n/);
  t.regex(plan.stdout, /mkdir \/var\/lib\/rancher\/k3s\/server\/manifests \(mode 0700\)/);
  t.regex(plan.stdout, /sysctl kernel\.panic: -1 -> 10/);
  t.regex(plan.stdout, /sysctl kernel\.keys\.root_maxbytes: 20000 -> 25000000/);
  t.deepEqual(s.list('etc-sysctl.d'), []);
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  t.is(s.kernel('kernel.panic'), '-1');
  await s.cli('apply');
  const again = await s.cli('plan', '--json');
  t.is(again.exitCode, 0);
  t.is(JSON.parse(again.stdout).summary.changes, 0);
  s.dispose();
});

it('an installed k3s-agent unit makes the node an agent, and server-only controls are skipped', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write('/etc/systemd/system/k3s-agent.service', '[Service]\nExecStart=/usr/local/bin/k3s agent\n');
  const apply = await s.cli('apply', '--json');
  t.is(apply.exitCode, 0, apply.stdout);
  const report = JSON.parse(apply.stdout);
  t.is(report.role, 'agent');
  t.is(report.roleSource, 'inferred from /etc/systemd/system/k3s-agent.service');
  t.is(report.controls.find((c: { id: string }) => c.id === 'directories').status, 'skip');
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  const server = JSON.parse((await s.cli('check', '--json', '--role', 'server')).stdout);
  t.is(server.role, 'server');
  t.is(server.roleSource, '--role');
  s.dispose();
});

it('render prints the files exactly as apply writes them', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const sysctl = await s.cli('render', 'sysctl');
  const audit = await s.cli('render', 'audit');
  t.is(sysctl.exitCode, 0);
  t.regex(sysctl.stdout, /\nkernel\.keys\.root_maxbytes=25000000\n$/);
  t.regex(audit.stdout, /\nkind: Policy\n/);
  await s.cli('apply');
  t.is(fs.readFileSync(s.host(SYSCTL_FILE), 'utf8'), sysctl.stdout);
  t.is(fs.readFileSync(s.host(AUDIT), 'utf8'), audit.stdout);
  s.dispose();
});

it('a read-only /proc/sys is a host error (exit 3) with the reason', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE, setup: ['mount -n -o remount,ro,bind /proc/sys'] });
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 3, apply.stdout);
  t.regex(apply.stdout, /cannot change kernel\.panic: \/proc\/sys\/kernel\/panic is on a read-only file system/);
  t.false(fs.existsSync(s.host(SYSCTL_FILE)), 'nothing is written for a kernel that cannot take it');
  t.regex(apply.stdout, /Verdict: HOST ERROR/);
  t.is(s.kernel('kernel.panic'), '-1');
  s.dispose();
});
