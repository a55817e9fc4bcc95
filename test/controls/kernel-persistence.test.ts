import test from 'ava';
import * as fs from 'node:fs';
import { kernelPersistence } from '../../src/controls/kernel-persistence.js';
import { renderKubeletSysctl } from '../../src/controls/kernel-parameters.js';
import { renderManaged } from '../../src/controls/managed.js';
import { TestHost, context } from '../helpers/test-host.js';
import { COMPLIANT } from '../helpers/sandbox.js';

function withOurFile(): TestHost {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/sysctl.d/90-kubelet.conf', renderManaged(renderKubeletSysctl()), 0o600);
  return host;
}

test('with only our file, every key holds after boot', (t) => {
  const findings = kernelPersistence.verify(context(withOurFile()));
  t.is(findings.length, 6);
  t.true(findings.every((f) => f.status === 'pass'));
  t.regex(findings[2]!.actual, /^10 \(\/etc\/sysctl\.d\/90-kubelet\.conf:\d+\)$/);
});

test('a later file that sets a key to another value fails and is named with its line', (t) => {
  const host = withOurFile();
  host.write('/usr/lib/sysctl.d/99-distro.conf', '# distro defaults\nkernel.panic = 60\n');
  const f = kernelPersistence.verify(context(host)).find((x) => x.item === 'kernel.panic at boot')!;
  t.is(f.status, 'fail');
  t.is(f.actual, '60 (/usr/lib/sysctl.d/99-distro.conf:2)');
  t.regex(f.reason, /\/usr\/lib\/sysctl\.d\/99-distro\.conf:2 sets kernel\.panic=60 after \/etc\/sysctl\.d\/90-kubelet\.conf sets 10/);
});

test('an earlier file, a same-valued later file and a masked vendor file do not fail', (t) => {
  const host = withOurFile();
  host.write('/etc/sysctl.d/10-early.conf', 'kernel.panic=0\n');
  host.write('/etc/sysctl.d/95-same.conf', 'kernel.panic=10\n');
  host.write('/usr/lib/sysctl.d/99-vendor.conf', 'vm.overcommit_memory=2\n');
  fs.symlinkSync('/dev/null', host.file('/etc/sysctl.d/99-vendor.conf'));
  t.true(kernelPersistence.verify(context(host)).every((f) => f.status === 'pass'));
});

test('/etc/sysctl.conf is read last', (t) => {
  const host = withOurFile();
  host.write('/etc/sysctl.conf', 'vm.overcommit_memory = 2\n');
  const f = kernelPersistence.verify(context(host)).find((x) => x.item === 'vm.overcommit_memory at boot')!;
  t.is(f.status, 'fail');
  t.is(f.actual, '2 (/etc/sysctl.conf:1)');
});

test('nothing set at all fails every key, and the control never plans a change to other files', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/sysctl.d/99-other.conf', 'kernel.panic=1\n');
  t.true(kernelPersistence.verify(context(host)).every((f) => f.status === 'fail'));
  t.deepEqual(kernelPersistence.plan(context(host)), { changes: [], blocked: [] });
});
