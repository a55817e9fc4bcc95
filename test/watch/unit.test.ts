import test from 'ava';
import { execa } from 'execa';
import fs from 'fs-extra';
import * as path from 'node:path';
import tmp from 'tmp';
import { REPO } from '../helpers/sandbox.js';
import { WATCH_UNIT_NAME, renderWatchUnit } from '../../src/watch/unit.js';

test('systemd/k3s-hostprep-watch.service is the rendered unit, as install writes it', async (t) => {
  const { renderManaged } = await import('../../src/controls/managed.js');
  t.is(fs.readFileSync(path.join(REPO, 'systemd', WATCH_UNIT_NAME), 'utf8'), renderManaged(renderWatchUnit()));
});

test('the unit restarts on failure, is sandboxed, and keeps /proc/sys and the write paths reachable', (t) => {
  const unit = renderWatchUnit('/opt/k3s-hostprep/bin/k3s-hostprep');
  t.regex(unit, /^ExecStart=\/opt\/k3s-hostprep\/bin\/k3s-hostprep watch$/m);
  t.regex(unit, /^Restart=on-failure$/m);
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes']) t.regex(unit, new RegExp(`^${line}$`, 'm'));
  t.regex(unit, /^ReadWritePaths=\/etc\/sysctl\.d -\/var\/lib\/rancher -\/var\/lib\/node_exporter/m);
  t.notRegex(unit, /^ProtectKernelTunables=/m, 'remediation writes /proc/sys');
});

test('systemd-analyze verify accepts the unit', async (t) => {
  const dir = tmp.dirSync({ unsafeCleanup: true });
  const file = path.join(dir.name, WATCH_UNIT_NAME);
  // ExecStart must name an existing executable for verify.
  fs.writeFileSync(file, renderWatchUnit(process.execPath));
  const r = await execa('systemd-analyze', ['verify', file], { reject: false });
  t.is(r.exitCode, 0, String(r.stderr));
  t.is(String(r.stderr).split('\n').filter((l) => l.includes(WATCH_UNIT_NAME)).join('\n'), '', 'no warning about the unit');
  dir.removeCallback();
});

test('install support: the unit is an artefact k3s-hostprep owns, at /etc/systemd/system, mode 0644', async (t) => {
  const { findArtefact, renderArtefact } = await import('../../src/artefacts.js');
  const { defaultConfig } = await import('../../src/config/defaults.js');
  const { ownership } = await import('../../src/controls/managed.js');
  const { watchUnitFileSpec, WATCH_UNIT_PATH } = await import('../../src/watch/unit.js');
  const artefact = findArtefact('watch-unit')!;
  const { NodeHost } = await import('../../src/host/node-host.js');
  const text = renderArtefact(artefact, { config: defaultConfig(), role: 'agent', host: new NodeHost('/tmp', false) });
  t.true(text.startsWith('# Managed by k3s-hostprep.'));
  t.true(text.endsWith(renderWatchUnit()));
  t.is(ownership(text), 'ours');
  t.is(WATCH_UNIT_PATH, '/etc/systemd/system/k3s-hostprep-watch.service');
  t.is(watchUnitFileSpec('/usr/bin/k3s-hostprep').mode, 0o644);
  t.regex(watchUnitFileSpec('/usr/bin/k3s-hostprep').body, /^ExecStart=\/usr\/bin\/k3s-hostprep watch$/m);
});
