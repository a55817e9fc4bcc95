import test from 'ava';
import { CONTROLS } from '../../src/controls/index.js';
import { planWatches, relevant, watchedPaths } from '../../src/watch/targets.js';

test('watch targets: files through their parent, drop-in directories themselves, missing paths through the nearest ancestor', (t) => {
  const existing = new Set(['/', '/etc', '/etc/sysctl.d', '/var', '/var/lib', '/usr', '/usr/lib', '/usr/lib/sysctl.d']);
  const plan = planWatches(['/etc/sysctl.d', '/etc/sysctl.conf', '/var/lib/rancher/k3s/server/manifests', '/usr/lib/sysctl.d'], (p) => existing.has(p));
  t.is(plan.get('/etc/sysctl.d'), null, 'all entries');
  t.deepEqual([...plan.get('/etc')!].sort(), ['sysctl.conf', 'sysctl.d']);
  t.deepEqual([...plan.get('/var/lib')!], ['rancher'], 'missing tree: watch for its first component');
  t.true(relevant(plan.get('/etc')!, 'sysctl.conf'));
  t.false(relevant(plan.get('/etc')!, 'resolv.conf'));
  t.true(relevant(null, 'anything'));
  const paths = watchedPaths(CONTROLS);
  for (const p of [
    '/etc/sysctl.d',
    '/run/sysctl.d',
    '/etc/sysctl.conf',
    '/etc/rancher/k3s',
    '/etc/sysctl.d/90-kubelet.conf',
    '/var/lib/rancher/k3s/server/audit.yaml',
    '/var/lib/rancher/k3s/server/manifests',
  ])
    t.true(paths.includes(p), p);
});
