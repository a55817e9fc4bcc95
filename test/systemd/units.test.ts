/**
 * The unit files: the copies under systemd/ are what install writes, the gate has the ordering
 * and the dependencies that keep K3s from starting on a failed host, and `systemd-analyze
 * verify` has nothing to say about any of them (it exits 0 on unknown directives, so the test
 * judges its output, which must be empty).
 */
import { defaultK3sChoice } from '../../src/k3s/version.js';
import test from 'ava';
import fs from 'fs-extra';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { REPO, Sandbox, isRoot } from '../helpers/sandbox.js';
import { GATE_UNIT, UNITS, enableLinks, renderUnit, WATCH_UNIT } from '../../src/systemd/units.js';
import { ownership } from '../../src/controls/managed.js';

const asRoot = isRoot() ? test : test.skip;

/** key -> values of one section of a unit file. */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1]!;
    else if (current === name && /^[A-Za-z]+=/.test(line)) {
      const [key, ...rest] = line.split('=');
      out.set(key!, [...(out.get(key!) ?? []), rest.join('=')]);
    }
  }
  return out;
}

test('the unit files under systemd/ are exactly what install writes, marked as ours', (t) => {
  const names = fs.readdirSync(path.join(REPO, 'systemd')).sort();
  const all = [...UNITS, WATCH_UNIT];
  t.deepEqual(names, all.map((u) => u.name).sort());
  for (const unit of all) {
    const text = fs.readFileSync(path.join(REPO, 'systemd', unit.name), 'utf8');
    t.is(text, renderUnit(unit), `systemd/${unit.name} differs from src/systemd/units.ts: run scripts/render-units`);
    t.is(ownership(text), 'ours');
  }
});

test('the gate runs apply once, before K3s, which requires it', (t) => {
  const text = renderUnit(UNITS.find((u) => u.name === GATE_UNIT)!);
  const unit = section(text, 'Unit');
  const service = section(text, 'Service');
  const install = section(text, 'Install');
  t.deepEqual(unit.get('After'), ['systemd-sysctl.service local-fs.target']);
  t.deepEqual(unit.get('Before'), ['k3s.service k3s-agent.service']);
  t.deepEqual(service.get('Type'), ['oneshot']);
  t.deepEqual(service.get('RemainAfterExit'), ['yes']);
  t.deepEqual(service.get('ExecStart'), ['/usr/local/bin/k3s-hostprep apply']);
  t.deepEqual(install.get('RequiredBy'), ['k3s.service k3s-agent.service']);
  t.deepEqual(install.get('WantedBy'), ['multi-user.target']);
  // Sandboxed, but /proc/sys stays writable and the paths apply writes are listed.
  for (const [key, value] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['ProtectSystem', 'strict'],
  ])
    t.deepEqual(service.get(key!), [value], key);
  t.false(service.has('ProtectKernelTunables'), 'apply writes /proc/sys');
  const writable = service
    .get('ReadWritePaths')![0]!
    .split(' ')
    .map((p) => p.replace(/^-/, ''));
  for (const p of ['/etc/sysctl.d', '/var/lib/rancher', '/etc/rancher']) t.true(writable.includes(p), p);
  // Of /run, only its own directory (the run lock).
  t.false(
    writable.some((p) => p === '/run'),
    'not all of /run',
  );
  t.deepEqual(service.get('RuntimeDirectory'), ['k3s-hostprep']);
});

test('the gate and the watch may write every place the configuration may send the metrics file', async (t) => {
  const { METRICS_DIRS } = await import('../../src/config/schema.js');
  const roots: readonly string[] = METRICS_DIRS;
  t.true(roots.includes('/var/lib/node_exporter'));
  for (const unit of [UNITS.find((u) => u.name === GATE_UNIT)!, WATCH_UNIT]) {
    const writable = section(renderUnit(unit), 'Service').get('ReadWritePaths')![0]!.split(' ');
    for (const root of roots) t.true(writable.includes(`-${root}`), `${unit.name} may write ${root} (optional: "-")`);
    // The watch remediates what apply writes, and tolerates any of it missing.
    for (const p of ['-/etc/sysctl.d', '-/var/lib/rancher', '-/etc/rancher']) t.true(writable.includes(p), `${unit.name} ${p}`);
  }
});

test('the writers share the host network namespace (net.* keys reach it) but open no IP socket and keep no CAP_SYS_ADMIN', (t) => {
  for (const unit of [UNITS.find((u) => u.name === GATE_UNIT)!, WATCH_UNIT]) {
    const service = section(renderUnit(unit), 'Service');
    t.false(service.has('PrivateNetwork'), `${unit.name}: a private network namespace would keep net.* keys from the host`);
    t.deepEqual(service.get('IPAddressDeny'), ['any']);
    t.deepEqual(service.get('RestrictAddressFamilies'), ['AF_UNIX']);
    const caps = service.get('CapabilityBoundingSet')![0]!.split(' ');
    t.false(caps.includes('CAP_SYS_ADMIN'), `${unit.name}: CAP_SYS_ADMIN could remount and undo ProtectSystem=`);
    t.true(caps.includes('CAP_NET_ADMIN'), 'the kernel asks for CAP_NET_ADMIN to write net.ipv4.ip_forward');
    t.true(service.get('SystemCallFilter')!.includes('@system-service'));
  }
});

/** systemd-analyze security --offline=true: the overall exposure of a unit file. */
async function exposure(file: string): Promise<number> {
  const result = await execa('systemd-analyze', ['security', '--offline=true', '--no-pager', file], { reject: false, env: { SYSTEMD_COLORS: '0' } });
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(`${result.stdout}${result.stderr}`);
  if (!m) throw new Error(`no exposure in: ${result.stdout}${result.stderr}`);
  return Number(m[1]);
}

test('systemd-analyze security rates the gate and the watch at most 2.5 and service-accounts at most 1.5', async (t) => {
  const limits: Record<string, number> = { 'k3s-hostprep.service': 2.5, 'k3s-hostprep-watch.service': 2.5, 'k3s-hostprep-service-accounts.service': 1.5 };
  for (const [name, limit] of Object.entries(limits)) {
    const score = await exposure(path.join(REPO, 'systemd', name));
    t.true(score <= limit, `${name}: exposure ${score}, the limit is ${limit}`);
  }
});

test('systemd-analyze security notices a looser unit (the check can fail)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-units-'));
  const loose = path.join(dir, 'k3s-hostprep.service');
  const text = renderUnit(UNITS.find((u) => u.name === GATE_UNIT)!)
    .replace(/^(SystemCallFilter|IPAddressDeny|ProtectProc|PrivateIPC|PrivateMounts)=.*\n/gm, '')
    .replace(/^CapabilityBoundingSet=.*$/m, 'CapabilityBoundingSet=CAP_SYS_ADMIN CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH');
  fs.writeFileSync(loose, text);
  t.true((await exposure(loose)) > 2.5);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('enabling makes the links systemctl enable makes: K3s requires the gate', (t) => {
  t.deepEqual(
    enableLinks()
      .map((l) => l.link)
      .sort(),
    [
      '/etc/systemd/system/k3s-agent.service.requires/k3s-hostprep.service',
      '/etc/systemd/system/k3s.service.requires/k3s-hostprep.service',
      '/etc/systemd/system/multi-user.target.wants/k3s-hostprep.service',
      '/etc/systemd/system/timers.target.wants/k3s-hostprep-service-accounts.timer',
    ],
  );
});

/** systemd-analyze verify inside a private mount namespace where /usr/local/bin holds a k3s-hostprep. */
async function verify(s: Sandbox, files: string[]) {
  const bin = s.path('usr-local-bin');
  fs.mkdirpSync(bin);
  fs.writeFileSync(path.join(bin, 'k3s-hostprep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  s.setup.push(`mount -n --bind ${bin} /usr/local/bin`);
  return s.exec(['systemd-analyze', 'verify', '--recursive-errors=no', ...files]);
}

asRoot('systemd-analyze verify prints nothing for every unit file', async (t) => {
  const s = new Sandbox();
  const files = UNITS.map((u) => path.join(REPO, 'systemd', u.name));
  const result = await verify(s, files);
  t.is(result.exitCode, 0);
  t.is(result.stdout + result.stderr, '', 'systemd-analyze verify had something to say');
  s.dispose();
});

asRoot('systemd-analyze verify notices a broken unit (the check can fail)', async (t) => {
  const s = new Sandbox();
  const broken = s.path('k3s-hostprep.service');
  fs.writeFileSync(broken, renderUnit(UNITS[0]!).replace('RemainAfterExit=yes', 'RemainAfterExit=yes\nProtectSytem=strict'));
  const result = await verify(s, [broken]);
  t.regex(result.stdout + result.stderr, /Unknown key 'ProtectSytem' in section \[Service\]/);
  s.dispose();
});

test('systemd-analyze is installed (Debian package systemd)', async (t) => {
  const result = await execa('systemd-analyze', ['--version'], { reject: false });
  t.is(result.exitCode, 0);
});

test('every service shares the sandbox; the writers keep /proc/sys writable and the reader does not', (t) => {
  for (const unit of [...UNITS, WATCH_UNIT].filter((u) => u.name.endsWith('.service'))) {
    const service = section(renderUnit(unit), 'Service');
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ProtectKernelLogs', 'yes'],
      ['UMask', '0077'],
    ]) {
      t.deepEqual(service.get(key!), [value], `${unit.name} ${key}`);
    }
    t.true(service.has('CapabilityBoundingSet'), `${unit.name} bounds its capabilities`);
    t.is(
      service.has('ProtectKernelTunables'),
      unit.name === 'k3s-hostprep-service-accounts.service',
      `${unit.name}: only the service-accounts step may lose /proc/sys`,
    );
  }
});

test('the watch unit restarts on failure and may write where remediation and the metrics file go', (t) => {
  const service = section(renderUnit(WATCH_UNIT), 'Service');
  t.deepEqual(service.get('ExecStart'), ['/usr/local/bin/k3s-hostprep watch']);
  t.deepEqual(service.get('Restart'), ['on-failure']);
  t.regex(service.get('ReadWritePaths')![0]!, /^-\/etc\/sysctl\.d -\/var\/lib\/rancher -\/etc\/rancher -\/var\/lib\/node_exporter/);
  t.deepEqual(service.get('RuntimeDirectory'), ['k3s-hostprep']);
});

test('render watch-unit prints the unit exactly as install writes it', async (t) => {
  const { findArtefact, renderArtefact } = await import('../../src/artefacts.js');
  const { defaultConfig } = await import('../../src/config/defaults.js');
  const { NodeHost } = await import('../../src/host/node-host.js');
  const { unitFileSpec } = await import('../../src/systemd/units.js');
  const text = renderArtefact(findArtefact('watch-unit')!, {
    config: defaultConfig(),
    role: 'agent',
    host: new NodeHost('/tmp', false),
    k3s: defaultK3sChoice(),
  });
  t.is(text, renderUnit(WATCH_UNIT));
  t.is(unitFileSpec(WATCH_UNIT).path, '/etc/systemd/system/k3s-hostprep-watch.service');
  t.is(unitFileSpec(WATCH_UNIT).mode, 0o644);
});
