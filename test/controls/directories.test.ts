import test from 'ava';
import * as fs from 'node:fs';
import { directories } from '../../src/controls/directories.js';
import { TestHost, context } from '../helpers/test-host.js';
import { COMPLIANT } from '../helpers/sandbox.js';

test('missing directories are created 0700 with the server directory 0700 and its parents 0755', async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host);
  const plan = directories.plan(ctx);
  t.deepEqual(
    plan.changes.map((c) => (c.kind === 'mkdir' ? `${c.path} ${c.mode.toString(8)}` : c.kind)),
    [
      '/var 755',
      '/var/lib 755',
      '/var/lib/rancher 755',
      '/var/lib/rancher/k3s 755',
      '/var/lib/rancher/k3s/server 700',
      '/var/lib/rancher/k3s/server/manifests 700',
      '/var/lib/rancher/k3s/server/logs 700',
    ],
  );
  const outcome = await directories.apply(ctx, plan);
  t.deepEqual(outcome.hostErrors, []);
  t.is(fs.statSync(host.file('/var/lib/rancher/k3s')).mode & 0o7777, 0o755);
  t.is(fs.statSync(host.file('/var/lib/rancher/k3s/server')).mode & 0o7777, 0o700);
  t.true(directories.verify(ctx).every((f) => f.status === 'pass'));
  t.deepEqual(directories.plan(ctx).changes, []);
});

test('an existing directory with a looser mode and another owner is tightened', async (t) => {
  const host = new TestHost(COMPLIANT);
  const dir = host.file('/var/lib/rancher/k3s/server/manifests');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(host.file('/var/lib/rancher/k3s/server/logs'));
  fs.chmodSync(dir, 0o777);
  fs.chownSync(dir, 1000, 1000);
  const ctx = context(host);
  const before = directories.verify(ctx)[0]!;
  t.is(before.status, 'fail');
  t.is(before.actual, 'directory, mode 0777, owner 1000:1000');
  const plan = directories.plan(ctx);
  t.deepEqual(
    plan.changes.map((c) => c.kind),
    ['chmod', 'chown', 'chmod'],
  );
  await directories.apply(ctx, plan);
  t.is(fs.statSync(dir).mode & 0o7777, 0o700);
  t.is(fs.statSync(dir).uid, 0);
  t.true(directories.verify(ctx).every((f) => f.status === 'pass'));
});

test('a symlink or a file at a directory path is refused', (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirSync(host.file('/var/lib/rancher/k3s/server'), { recursive: true });
  fs.mkdirSync(host.file('/tmp/elsewhere'), { recursive: true });
  fs.symlinkSync('/tmp/elsewhere', host.file('/var/lib/rancher/k3s/server/manifests'));
  host.write('/var/lib/rancher/k3s/server/logs', 'not a directory');
  const plan = directories.plan(context(host));
  t.deepEqual(plan.changes, []);
  t.deepEqual(
    plan.blocked.map((f) => f.item),
    ['/var/lib/rancher/k3s/server/manifests', '/var/lib/rancher/k3s/server/logs'],
  );
  t.regex(plan.blocked[0]!.reason, /is a symlink/);
  t.regex(plan.blocked[1]!.reason, /is not a directory/);
  t.is(plan.blocked[1]!.cis, '1.2.16', "k3s-cis-1.9's audit-log-path check (1.2.19 in k3s-cis-1.24)");
});
