/**
 * install and uninstall: into a temporary root (the offline path, symlinks written directly,
 * compared with what the real `systemctl --root enable` writes), and as the built command in a
 * private mount namespace where a recording systemctl stands in for a running systemd.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { execa } from 'execa';
import tmp from 'tmp';
import { TestHost } from '../helpers/test-host.js';
import { Sandbox, isRoot } from '../helpers/sandbox.js';
import { install, launcherScript, uninstall, type BinarySource } from '../../src/systemd/install.js';
import { BIN_PATH, GATE_UNIT, SA_TIMER_UNIT, UNITS, renderUnit } from '../../src/systemd/units.js';

const asRoot = isRoot() ? test : test.skip;
const BINARY: BinarySource = { kind: 'file', path: '/bin/true', content: Buffer.from('#!/bin/sh\nexit 0\n') };

/** Every path under a directory with what it is: "f <mode>", "d <mode>" or "l -> target". */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = fs.lstatSync(full);
      const rel = '/' + path.relative(root, full);
      if (st.isSymbolicLink()) out[rel] = `l -> ${fs.readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = `d ${(st.mode & 0o7777).toString(8)}`;
        walk(full);
      } else out[rel] = `f ${(st.mode & 0o7777).toString(8)} ${st.size}`;
    }
  };
  walk(root);
  return out;
}

function links(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(tree(root)).filter(([, v]) => v.startsWith('l ')));
}

function hostWithSystemDirs(): TestHost {
  const host = new TestHost({});
  for (const d of ['/etc/systemd/system', '/usr/local/bin', '/var/lib']) fs.mkdirpSync(host.file(d));
  return host;
}

asRoot('install writes the binary, the units and the same symlinks as systemctl enable', async (t) => {
  const host = hostWithSystemDirs();
  const report = await install(host, { force: false, binary: BINARY });
  t.is(report.exitCode, 0, JSON.stringify(report));
  t.is(report.via, 'symlinks');
  t.is(fs.readFileSync(host.file(BIN_PATH), 'utf8'), '#!/bin/sh\nexit 0\n');
  t.is(fs.statSync(host.file(BIN_PATH)).mode & 0o7777, 0o755);
  for (const unit of UNITS) {
    t.is(fs.readFileSync(host.file(`/etc/systemd/system/${unit.name}`), 'utf8'), renderUnit(unit));
    t.is(fs.statSync(host.file(`/etc/systemd/system/${unit.name}`)).mode & 0o7777, 0o644);
  }
  // The reference: systemctl enable on a second root holding the same unit files.
  const reference = tmp.dirSync({ unsafeCleanup: true }).name;
  fs.mkdirpSync(path.join(reference, 'etc/systemd/system'));
  for (const unit of UNITS) fs.writeFileSync(path.join(reference, 'etc/systemd/system', unit.name), renderUnit(unit));
  const enabled = await execa('systemctl', [`--root=${reference}`, 'enable', GATE_UNIT, SA_TIMER_UNIT], { reject: false });
  t.is(enabled.exitCode, 0, enabled.stderr);
  t.deepEqual(links(host.root), links(reference));
  t.is(Object.keys(links(host.root)).length, 4);
});

asRoot('a second install changes nothing; uninstall leaves the root as it was; a second uninstall changes nothing', async (t) => {
  const host = hostWithSystemDirs();
  host.write('/etc/systemd/system/multi-user.target.wants/ssh.service', 'not ours');
  const before = tree(host.root);
  t.is((await install(host, { force: false, binary: BINARY })).exitCode, 0);
  const installed = tree(host.root);
  const inodes = UNITS.map((u) => fs.statSync(host.file(`/etc/systemd/system/${u.name}`)).ino);
  const again = await install(host, { force: false, binary: BINARY });
  t.is(again.exitCode, 0);
  t.deepEqual(again.done, []);
  t.deepEqual(tree(host.root), installed);
  t.deepEqual(
    UNITS.map((u) => fs.statSync(host.file(`/etc/systemd/system/${u.name}`)).ino),
    inodes,
    'files were rewritten',
  );
  const removed = await uninstall(host, { force: false });
  t.is(removed.exitCode, 0, JSON.stringify(removed));
  t.deepEqual(tree(host.root), before);
  const twice = await uninstall(host, { force: false });
  t.is(twice.exitCode, 0);
  t.deepEqual(twice.done, []);
});

asRoot('a unit file someone else wrote is reported and not replaced; --force keeps a backup', async (t) => {
  const host = hostWithSystemDirs();
  host.write(`/etc/systemd/system/${GATE_UNIT}`, '[Service]\nExecStart=/bin/true\n');
  const report = await install(host, { force: false, binary: BINARY });
  t.is(report.exitCode, 1);
  t.regex(report.blocked[0]!.reason, /k3s-hostprep\.service was not written by k3s-hostprep/);
  t.is(fs.readFileSync(host.file(`/etc/systemd/system/${GATE_UNIT}`), 'utf8'), '[Service]\nExecStart=/bin/true\n');
  t.deepEqual(links(host.root), {}, 'nothing was enabled');
  const forced = await install(host, { force: true, binary: BINARY });
  t.is(forced.exitCode, 0);
  const backups = fs.readdirSync(host.file('/etc/systemd/system')).filter((n) => n.includes('k3s-hostprep-backup'));
  t.is(backups.length, 1);
  t.is(fs.readFileSync(host.file(`/etc/systemd/system/${backups[0]}`), 'utf8'), '[Service]\nExecStart=/bin/true\n');
});

asRoot('install never writes through a symlink, and leaves a link to another unit alone', async (t) => {
  const host = hostWithSystemDirs();
  host.write('/elsewhere/unit', 'x');
  fs.symlinkSync('/elsewhere/unit', host.file(`/etc/systemd/system/${GATE_UNIT}`));
  const report = await install(host, { force: true, binary: BINARY });
  t.is(report.exitCode, 1);
  t.regex(report.blocked.map((b) => b.reason).join('\n'), /is a symlink; k3s-hostprep never writes through one/);
  t.is(fs.readFileSync(host.file('/elsewhere/unit'), 'utf8'), 'x');

  const other = hostWithSystemDirs();
  fs.mkdirpSync(other.file('/etc/systemd/system/k3s.service.requires'));
  fs.symlinkSync('/etc/systemd/system/something.service', other.file('/etc/systemd/system/k3s.service.requires/k3s-hostprep.service'));
  const r2 = await install(other, { force: false, binary: BINARY });
  t.is(r2.exitCode, 1);
  t.regex(r2.blocked[0]!.reason, /is a symlink to \/etc\/systemd\/system\/something\.service; it is left alone/);
  const r3 = await uninstall(other, { force: false });
  t.true(
    fs.lstatSync(other.file('/etc/systemd/system/k3s.service.requires/k3s-hostprep.service')).isSymbolicLink(),
    'uninstall removed a link that is not ours',
  );
  t.is(r3.exitCode, 0);
});

asRoot('uninstall leaves an edited unit file unless --force, which keeps a backup', async (t) => {
  const host = hostWithSystemDirs();
  t.is((await install(host, { force: false, binary: BINARY })).exitCode, 0);
  const file = host.file(`/etc/systemd/system/${GATE_UNIT}`);
  fs.appendFileSync(file, 'Environment=LOCAL=1\n');
  const report = await uninstall(host, { force: false });
  t.is(report.exitCode, 1);
  t.true(fs.existsSync(file));
  t.regex(report.blocked[0]!.reason, /is not k3s-hostprep's as written; it is left alone/);
  const forced = await uninstall(host, { force: true });
  t.is(forced.exitCode, 0);
  t.false(fs.existsSync(file));
  t.true(forced.done.some((d) => d.startsWith('backup kept: ')));
});

asRoot('install blocked by a foreign unit says install --force, not apply --force', async (t) => {
  const host = hostWithSystemDirs();
  host.write(`/etc/systemd/system/${GATE_UNIT}`, '[Service]\nExecStart=/bin/true\n');
  const report = await install(host, { force: false, binary: BINARY });
  t.is(report.exitCode, 1);
  t.regex(report.blocked[0]!.reason, /run install --force to replace it \(a backup is kept\)/);
  t.notRegex(report.blocked[0]!.reason, /apply --force/);
});

asRoot('a second uninstall lists what is absent as absent, not as "already in place"', async (t) => {
  const { renderInstallReport } = await import('../../src/systemd/install.js');
  const host = hostWithSystemDirs();
  t.is((await install(host, { force: false, binary: BINARY })).exitCode, 0);
  t.is((await uninstall(host, { force: false })).exitCode, 0);
  const text = renderInstallReport(await uninstall(host, { force: false }));
  t.notRegex(text, /Already in place/);
  t.regex(text, new RegExp(`Already absent \\(\\d+\\):\\n(  .*\\n)*  ${BIN_PATH.replace(/\//g, '\\/')}\\n`));
  t.regex(text, /Changes: nothing to change\./);
});

asRoot('uninstall --root removes the directories install created in an empty root, and only those', async (t) => {
  const host = new TestHost({});
  host.write('/etc/hostname', 'image\n');
  const before = tree(host.root);
  t.is((await install(host, { force: false, binary: BINARY })).exitCode, 0);
  t.true(fs.statSync(host.file('/etc/systemd/system')).isDirectory());
  const removed = await uninstall(host, { force: false });
  t.is(removed.exitCode, 0, JSON.stringify(removed));
  t.deepEqual(tree(host.root), before, 'the root is as it was before install');
  // A directory that was there before install stays, even when empty.
  const other = hostWithSystemDirs();
  t.is((await install(other, { force: false, binary: BINARY })).exitCode, 0);
  t.is((await uninstall(other, { force: false })).exitCode, 0);
  t.true(fs.statSync(other.file('/usr/local/bin')).isDirectory());
  t.true(fs.statSync(other.file('/etc/systemd/system')).isDirectory());
});

test('the launcher for a Node.js install quotes its paths', (t) => {
  t.is(
    launcherScript('/usr/bin/node', "/opt/it's/cli.js"),
    `#!/bin/sh\n# k3s-hostprep launcher, written by k3s-hostprep install.\nexec '/usr/bin/node' '/opt/it'\\''s/cli.js' "$@"\n`,
  );
});

/** The built command in the sandbox: /usr/local/bin is a sandbox directory; /etc an overlay. */
function sandbox(): Sandbox {
  const s = new Sandbox();
  fs.mkdirpSync(s.path('usr-local-bin'));
  s.setup.push(`mount -n --bind ${s.path('usr-local-bin')} /usr/local/bin`);
  return s;
}

asRoot('on a host where systemd runs, install and uninstall go through systemctl', async (t) => {
  const s = sandbox();
  // /run/systemd/system marks a host booted with systemd; systemctl is a recording stand-in
  // that hands enable and disable to the real systemctl working on the sandbox's /etc.
  fs.mkdirpSync(s.path('run', 'systemd', 'system'));
  const log = s.path('systemctl.log');
  s.program(
    'systemctl',
    `#!/bin/sh\necho "$*" >> ${log}\ncase "$1" in enable|disable) [ "$2" = --now ] && { a=$1; shift 2; set -- "$a" "$@"; }; exec /usr/bin/systemctl --root=/ "$@";; esac\nexit 0\n`,
  );
  const binary = s.path('agent');
  fs.writeFileSync(binary, '#!/bin/sh\necho agent\n', { mode: 0o755 });

  const first = await s.cli('install', '--binary', binary);
  t.is(first.exitCode, 0, first.stdout + first.stderr);
  t.regex(first.stdout, /enabling through systemctl/);
  t.is(fs.readFileSync(log, 'utf8'), `daemon-reload\nenable ${GATE_UNIT} ${SA_TIMER_UNIT}\n`);
  t.is(fs.readFileSync(s.path('usr-local-bin', 'k3s-hostprep'), 'utf8'), '#!/bin/sh\necho agent\n');
  t.is(fs.readlinkSync(s.host('/etc/systemd/system/k3s.service.requires/k3s-hostprep.service')), '/etc/systemd/system/k3s-hostprep.service');

  const second = await s.cli('install', '--binary', binary);
  t.is(second.exitCode, 0);
  t.regex(second.stdout, /Changes: nothing to change\./);
  t.is(fs.readFileSync(log, 'utf8').split('\n').length, 3, 'a second install ran systemctl');

  const removed = await s.cli('uninstall');
  t.is(removed.exitCode, 0, removed.stdout + removed.stderr);
  // The timer is stopped as it is disabled; the gate is only disabled (stopping it would stop K3s).
  t.is(
    fs.readFileSync(log, 'utf8'),
    `daemon-reload\nenable ${GATE_UNIT} ${SA_TIMER_UNIT}\ndisable ${GATE_UNIT}\ndisable --now ${SA_TIMER_UNIT}\ndaemon-reload\n`,
  );
  t.false(fs.existsSync(s.path('usr-local-bin', 'k3s-hostprep')));
  t.false(fs.existsSync(s.host(`/etc/systemd/system/${GATE_UNIT}`)));
  t.false(fs.existsSync(s.host('/etc/systemd/system/k3s.service.requires/k3s-hostprep.service')));
  s.dispose();
});

asRoot('install --root without the single executable or --binary is a usage error that writes nothing', async (t) => {
  const s = sandbox();
  const root = s.path('image');
  fs.mkdirpSync(root);
  const result = await s.cli('install', '--root', root);
  t.is(result.exitCode, 2);
  t.regex(result.stderr, /install --root needs the single executable \(scripts\/build-sea\) or --binary FILE/);
  t.deepEqual(fs.readdirSync(root), []);
  s.dispose();
});

asRoot('install --root puts the units into an image, and the real unit passes systemd-analyze verify there', async (t) => {
  const s = sandbox();
  const root = s.path('image');
  fs.mkdirpSync(root);
  const binary = s.path('agent');
  fs.writeFileSync(binary, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const result = await s.cli('install', '--root', root, '--binary', binary);
  t.is(result.exitCode, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /enabling through symlinks/);
  t.true(fs.existsSync(path.join(root, 'usr/local/bin/k3s-hostprep')));
  t.deepEqual(fs.readdirSync(s.path('usr-local-bin')), [], 'install --root wrote outside the root');
  // The installed unit, where the installed binary is in place.
  fs.copyFileSync(path.join(root, 'usr/local/bin/k3s-hostprep'), s.path('usr-local-bin', 'k3s-hostprep'));
  const verify = await s.exec(['systemd-analyze', 'verify', '--recursive-errors=no', path.join(root, 'etc/systemd/system', GATE_UNIT)]);
  t.is(verify.stdout + verify.stderr, '');
  s.dispose();
});

asRoot('watch.enabled: install also writes and enables the watch unit, as systemctl enable would; uninstall undoes it', async (t) => {
  const { WATCH_UNIT } = await import('../../src/systemd/units.js');
  const host = hostWithSystemDirs();
  const before = tree(host.root);
  const report = await install(host, { force: false, binary: BINARY, watch: true });
  t.is(report.exitCode, 0, JSON.stringify(report));
  t.is(fs.readFileSync(host.file(`/etc/systemd/system/${WATCH_UNIT.name}`), 'utf8'), renderUnit(WATCH_UNIT));
  t.regex(WATCH_UNIT.body, /^ExecStart=\/usr\/local\/bin\/k3s-hostprep watch$/m);
  const reference = tmp.dirSync({ unsafeCleanup: true }).name;
  fs.mkdirpSync(path.join(reference, 'etc/systemd/system'));
  for (const unit of [...UNITS, WATCH_UNIT]) fs.writeFileSync(path.join(reference, 'etc/systemd/system', unit.name), renderUnit(unit));
  const enabled = await execa('systemctl', [`--root=${reference}`, 'enable', GATE_UNIT, SA_TIMER_UNIT, WATCH_UNIT.name], { reject: false });
  t.is(enabled.exitCode, 0, enabled.stderr);
  t.deepEqual(links(host.root), links(reference));
  t.true(Object.keys(links(host.root)).includes('/etc/systemd/system/multi-user.target.wants/k3s-hostprep-watch.service'));
  const removed = await uninstall(host, { force: false });
  t.is(removed.exitCode, 0, JSON.stringify(removed));
  t.deepEqual(tree(host.root), before);
});
