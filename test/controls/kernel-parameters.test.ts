import test from 'ava';
import { defaultConfig } from '../../src/config/load.js';
import * as fs from 'node:fs';
import { kernelParameters, renderKubeletSysctl } from '../../src/controls/kernel-parameters.js';
import { KUBELET_SYSCTLS, kubeletMessage, parseKernelInt } from '../../src/k3s/kubelet-sysctls.js';
import { TestHost, context } from '../helpers/test-host.js';
import { COMPLIANT, HOSTILE } from '../helpers/sandbox.js';

test('the kubelet checks six keys, and the file sets all six', (t) => {
  t.deepEqual(
    KUBELET_SYSCTLS.map(([k]) => k),
    ['vm.panic_on_oom', 'vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'],
  );
  const body = renderKubeletSysctl();
  for (const [key, value] of KUBELET_SYSCTLS) t.true(body.includes(`\n${key}=${value}\n`), key);
});

test('values are parsed as the kubelet parses them', (t) => {
  t.is(parseKernelInt(' 10\n'), 10);
  t.is(parseKernelInt('-1'), -1);
  t.is(parseKernelInt('+1'), 1);
  t.is(parseKernelInt('1.0'), null);
  t.is(parseKernelInt(''), null);
  t.is(kubeletMessage('vm.overcommit_memory', 1, '0'), 'invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0');
});

test('a hostile kernel is planned, applied with one sysctl -p, and then verifies', async (t) => {
  const host = new TestHost(HOSTILE);
  const ctx = context(host);
  const plan = kernelParameters.plan(ctx);
  t.deepEqual(
    plan.changes.filter((c) => c.kind === 'sysctl').map((c) => (c.kind === 'sysctl' ? `${c.key}:${c.from}->${c.to}` : '')),
    [
      'vm.overcommit_memory:0->1',
      'kernel.panic:-1->10',
      'kernel.panic_on_oops:0->1',
      'kernel.keys.root_maxkeys:200->1000000',
      'kernel.keys.root_maxbytes:20000->25000000',
    ],
  );
  const before = kernelParameters.verify(ctx);
  t.is(before.find((f) => f.item === 'kernel.panic')?.reason, 'invalid kernel flag: kernel/panic, expected value: 10, actual value: -1');
  const outcome = await kernelParameters.apply(ctx, plan);
  t.deepEqual(outcome.hostErrors, []);
  t.deepEqual(host.sysctlCalls, [['-p', '/etc/sysctl.d/90-kubelet.conf']]);
  const after = kernelParameters.verify(ctx);
  t.true(
    after.every((f) => f.status === 'pass'),
    JSON.stringify(after.filter((f) => f.status !== 'pass')),
  );
  t.is(fs.statSync(host.file('/etc/sysctl.d/90-kubelet.conf')).mode & 0o777, 0o600);
});

test('sysctl is not run when every live value is already right', async (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirSync(host.file('/etc/sysctl.d'), { recursive: true });
  const ctx = context(host);
  const plan = kernelParameters.plan(ctx);
  t.deepEqual(
    plan.changes.map((c) => c.kind),
    ['file'],
  );
  await kernelParameters.apply(ctx, plan);
  t.deepEqual(host.sysctlCalls, []);
  t.deepEqual(kernelParameters.plan(ctx).changes, []);
});

test('a failing sysctl and a value the kernel does not take are host errors', async (t) => {
  const failing = new TestHost(HOSTILE);
  failing.sysctlExitCode = 255;
  const out1 = await kernelParameters.apply(context(failing), kernelParameters.plan(context(failing)));
  t.is(out1.hostErrors.length, 1);
  t.regex(
    out1.hostErrors[0]!,
    /^sysctl -p \/etc\/sysctl.d\/90-kubelet.conf exited 255: sysctl: permission denied.*; \/etc\/sysctl.d\/90-kubelet.conf was put back as it was before this run$/,
  );
  t.false(fs.existsSync(failing.file('/etc/sysctl.d/90-kubelet.conf')), 'a file the kernel rejected is not left for the next boot');

  const stubborn = new TestHost(HOSTILE);
  stubborn.stubborn.add('kernel.panic');
  const out2 = await kernelParameters.apply(context(stubborn), kernelParameters.plan(context(stubborn)));
  t.deepEqual(out2.hostErrors, ['kernel.panic: the kernel kept -1 after sysctl -p /etc/sysctl.d/90-kubelet.conf']);
});

test('an unreadable key is an error, as it is fatal to the kubelet', (t) => {
  const kernel = { ...COMPLIANT };
  delete (kernel as Record<string, string>)['kernel.keys.root_maxkeys'];
  const host = new TestHost(kernel);
  const finding = kernelParameters.verify(context(host)).find((f) => f.item === 'kernel.keys.root_maxkeys');
  t.is(finding?.status, 'error');
  t.regex(finding!.reason, /cannot read \/proc\/sys\/kernel\/keys\/root_maxkeys/);
});

test('a foreign 90-kubelet.conf is not replaced without force, and is backed up with it', async (t) => {
  const host = new TestHost(HOSTILE);
  host.write('/etc/sysctl.d/90-kubelet.conf', 'vm.overcommit_memory=1\n');
  const plan = kernelParameters.plan(context(host));
  t.deepEqual(plan.changes, []);
  t.is(plan.blocked[0]?.item, '/etc/sysctl.d/90-kubelet.conf');
  t.regex(plan.blocked[0]!.reason, /was not written by k3s-hostprep.*--force/);

  const forced = context(host, { force: true });
  const outcome = await kernelParameters.apply(forced, kernelParameters.plan(forced));
  t.is(outcome.backups.length, 1);
  t.is(fs.readFileSync(host.file(outcome.backups[0]!), 'utf8'), 'vm.overcommit_memory=1\n');
  t.regex(outcome.backups[0]!, /^\/etc\/sysctl\.d\/90-kubelet\.conf\.k3s-hostprep-backup-\d{8}T\d{6}\.\d{3}Z(-\d+)?$/);
  t.true(kernelParameters.verify(forced).every((f) => f.status === 'pass'));
});

test('a symlink at the target is refused and nothing is written through it', async (t) => {
  const host = new TestHost(HOSTILE);
  host.write('/elsewhere/target', 'keep me\n');
  fs.mkdirSync(host.file('/etc/sysctl.d'), { recursive: true });
  fs.symlinkSync('/elsewhere/target', host.file('/etc/sysctl.d/90-kubelet.conf'));
  const ctx = context(host, { force: true });
  const plan = kernelParameters.plan(ctx);
  t.deepEqual(plan.changes, []);
  t.regex(plan.blocked[0]!.reason, /is a symlink/);
  await kernelParameters.apply(ctx, plan);
  t.is(fs.readFileSync(host.file('/elsewhere/target'), 'utf8'), 'keep me\n');
  t.true(fs.lstatSync(host.file('/etc/sysctl.d/90-kubelet.conf')).isSymbolicLink());
});

test('extra parameters from the config are written after the six, applied and verified', async (t) => {
  const { parseConfig } = await import('../../src/config/load.js');
  const config = parseConfig('sysctl:\n  net.ipv4.ip_forward: 1\n  net/ipv4/tcp_rmem: "4096 87380 6291456"\n  kernel.panic: 10\n', 'c.yaml');
  t.deepEqual(config.sysctl, { 'net.ipv4.ip_forward': '1', 'net.ipv4.tcp_rmem': '4096 87380 6291456', 'kernel.panic': '10' });
  const body = renderKubeletSysctl(config.sysctl);
  t.regex(body, /kernel\.keys\.root_maxbytes=25000000\n#\n# Extra parameters[^\n]*\nnet\.ipv4\.ip_forward=1\nnet\.ipv4\.tcp_rmem=4096 87380 6291456\n$/);
  t.is(body.match(/kernel\.panic=/g)?.length, 1, 'a repeat of one of the six is written once');
  const host = new TestHost({ ...HOSTILE, 'net.ipv4.ip_forward': '0', 'net.ipv4.tcp_rmem': '4096\t131072\t6291456' });
  const ctx = context(host, { config });
  const plan = kernelParameters.plan(ctx);
  t.true(plan.changes.some((c) => c.kind === 'sysctl' && c.key === 'net.ipv4.tcp_rmem'));
  await kernelParameters.apply(ctx, plan);
  t.is(host.kernel.get('net.ipv4.ip_forward'), '1');
  const findings = kernelParameters.verify(ctx);
  t.true(
    findings.every((f) => f.status === 'pass'),
    JSON.stringify(findings.filter((f) => f.status !== 'pass')),
  );
  host.kernel.set('net.ipv4.tcp_rmem', '4096  87380   6291456');
  t.is(kernelParameters.verify(ctx).find((f) => f.item === 'net.ipv4.tcp_rmem')?.status, 'pass', 'white space is not a difference');
  host.kernel.set('net.ipv4.ip_forward', '0');
  t.is(kernelParameters.verify(ctx).find((f) => f.item === 'net.ipv4.ip_forward')?.reason, 'net.ipv4.ip_forward is 0, the configuration asks for 1');
});

test('a failed sysctl -p of an extra key leaves the previous file in place', async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host);
  await kernelParameters.apply(ctx, kernelParameters.plan(ctx));
  const before = fs.readFileSync(host.file('/etc/sysctl.d/90-kubelet.conf'), 'utf8');
  host.kernel.set('net.ipv4.ip_forward', '0');
  host.sysctlExitCode = 255;
  const withExtra = context(host, { config: { ...defaultConfig(), sysctl: { 'net.ipv4.ip_forward': '1' } } });
  const outcome = await kernelParameters.apply(withExtra, kernelParameters.plan(withExtra));
  t.regex(outcome.hostErrors[0] ?? '', /exited 255.*was put back as it was before this run/);
  t.is(fs.readFileSync(host.file('/etc/sysctl.d/90-kubelet.conf'), 'utf8'), before);
});
