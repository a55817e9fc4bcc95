import test from 'ava';
import { resolveSysctl, selectConfFiles } from '../../src/sysctl/resolve.js';

test('a name in an earlier directory masks the same name later; files sort by name across directories', (t) => {
  const listing: Record<string, string[]> = {
    '/etc/sysctl.d': ['90-kubelet.conf', '50-pid-max.conf', 'README', 'backup.conf.bak'],
    '/run/sysctl.d': ['10-run.conf'],
    '/usr/lib/sysctl.d': ['50-pid-max.conf', '99-protect-links.conf', '30-vendor.conf'],
  };
  t.deepEqual(
    selectConfFiles((d) => listing[d] ?? null),
    [
      '/run/sysctl.d/10-run.conf',
      '/usr/lib/sysctl.d/30-vendor.conf',
      '/etc/sysctl.d/50-pid-max.conf',
      '/etc/sysctl.d/90-kubelet.conf',
      '/usr/lib/sysctl.d/99-protect-links.conf',
    ],
  );
});

test('the last assignment wins and the history keeps every one', (t) => {
  const r = resolveSysctl([
    { path: '/etc/sysctl.d/90-kubelet.conf', text: 'kernel.panic=10\n' },
    { path: '/etc/sysctl.d/99-late.conf', text: '# x\nkernel.panic = 60\n' },
    { path: '/etc/sysctl.conf', text: '' },
  ]);
  t.is(r.winner('kernel.panic')?.value, '60');
  t.is(r.winner('kernel.panic')?.file, '/etc/sysctl.d/99-late.conf');
  t.is(r.winner('kernel.panic')?.line, 2);
  t.deepEqual(
    r.history('kernel.panic').map((a) => a.value),
    ['10', '60'],
  );
  t.is(r.winner('vm.overcommit_memory'), undefined);
});

test('/etc/sysctl.conf is read last, and a masked file is skipped', (t) => {
  const r = resolveSysctl([
    { path: '/usr/lib/sysctl.d/10-masked.conf', text: null },
    { path: '/etc/sysctl.d/90-kubelet.conf', text: 'vm.overcommit_memory=1' },
    { path: '/etc/sysctl.conf', text: 'vm.overcommit_memory=2' },
  ]);
  t.is(r.winner('vm.overcommit_memory')?.value, '2');
  t.is(r.winner('vm.overcommit_memory')?.file, '/etc/sysctl.conf');
});

test('an explicit assignment beats a glob wherever the glob stands', (t) => {
  const r = resolveSysctl([
    { path: '/etc/sysctl.d/90-kubelet.conf', text: 'kernel.panic=10' },
    { path: '/etc/sysctl.d/99-glob.conf', text: 'kernel.pani*=0' },
  ]);
  t.is(r.winner('kernel.panic')?.value, '10');
  t.is(r.winner('kernel.panic_on_oops')?.value, '0');
});
