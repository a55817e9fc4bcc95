import test from 'ava';
import * as path from 'node:path';
import { isTempNameFor, tempName } from '../../src/host/node-host.js';

const CONSUMED = /\.(conf|ya?ml|json)$/i;

test('temporary names are hidden, end in .tmp, and are never a name sysctl or K3s reads', (t) => {
  for (const target of [
    '/etc/sysctl.d/90-kubelet.conf',
    '/var/lib/rancher/k3s/server/manifests/policy.yaml',
    '/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml',
    '/x/y.json',
  ]) {
    const name = path.basename(tempName(target));
    t.true(name.startsWith('.'), name);
    t.true(name.endsWith('.tmp'), name);
    t.false(CONSUMED.test(name), name);
    t.true(isTempNameFor(path.basename(target), name), name);
    t.is(path.dirname(tempName(target)), path.dirname(target), 'beside its target, on the same file system');
  }
});

test('only the temporary names made for that target are recognised', (t) => {
  t.true(isTempNameFor('90-kubelet.conf', '.90-kubelet.conf.k3s-hostprep-123-0badc0de.tmp'));
  t.true(isTempNameFor('90-kubelet.conf', '.90-kubelet.conf.k3s-hostprep-backup-20260101T000000Z.k3s-hostprep-9-01234567.tmp'));
  t.false(isTempNameFor('90-kubelet.conf', '.90-kubelet.conf.k3s-hostprep-123-0badc0de.tmp.conf'));
  t.false(isTempNameFor('90-kubelet.conf', '.90-kubelet.conf.k3s-hostprep-x-0badc0de.tmp'));
  t.false(isTempNameFor('90-kubelet.conf', '.90-kubelet.conf.k3s-hostprep-1-XYZ.tmp'));
  t.false(isTempNameFor('90-kubelet.conf', '.other.conf.k3s-hostprep-123-0badc0de.tmp'));
  t.false(isTempNameFor('90-kubelet.conf', '90-kubelet.conf'));
  t.false(isTempNameFor('a.b', '.aXb.k3s-hostprep-1-01234567.tmp'), 'dots in the name are literal');
});
