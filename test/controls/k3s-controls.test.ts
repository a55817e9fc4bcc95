import test from 'ava';
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { k3sConfig } from '../../src/controls/k3s-config.js';
import { auditPolicy } from '../../src/controls/audit-policy.js';
import { benchmark } from '../../src/controls/benchmark.js';
import { networkPolicy } from '../../src/controls/network-policy.js';
import { podSecurity } from '../../src/controls/pod-security.js';
import type { Context, Control } from '../../src/controls/types.js';
import { TestHost, context } from '../helpers/test-host.js';
import { COMPLIANT } from '../helpers/sandbox.js';

const DROPIN = '/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml';
const PSA = '/var/lib/rancher/k3s/server/psa.yaml';
const POLICY = '/var/lib/rancher/k3s/server/manifests/policy.yaml';

async function converge(ctx: Context, controls: Control[]): Promise<void> {
  for (const c of controls) {
    const outcome = await c.apply(ctx, c.plan(ctx));
    if (outcome.hostErrors.length > 0) throw new Error(outcome.hostErrors.join('; '));
  }
}

test('a v1.25+ server: drop-in, psa.yaml and policy.yaml written 0600, and the merged flags pass', async (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/rancher/k3s/config.yaml', 'kube-apiserver-arg: [feature-gates=Foo=true]\nnode-name: n1\n');
  const ctx = context(host, { k3s: 'v1.28.5+k3s1' });
  await converge(ctx, [auditPolicy, networkPolicy, podSecurity, k3sConfig]);
  for (const p of [DROPIN, PSA, POLICY]) t.is(fs.statSync(host.file(p)).mode & 0o7777, 0o600, p);
  t.deepEqual(
    k3sConfig.verify(ctx).filter((f) => f.status !== 'pass'),
    [],
    'K3s will start: every file it is pointed at exists',
  );
  // Every scored flag check of k3s-cis-1.9 passes on the lines K3s will log, EventRateLimit (1.2.9) included.
  const flags = benchmark.verify(ctx).filter((f) => /^1\.[23]\.|^4\.2\./.test(f.cis ?? '') && f.status === 'fail');
  t.deepEqual(
    flags.map((f) => `${f.cis} ${f.reason}`),
    [],
  );
  // The etcd TLS flags are the datastore's: on SQLite kube-bench fails 1.2.26 (1.2.23's audit
  // prints a passing text without managed etcd), and the report names the fix.
  t.is(benchmark.verify(ctx).find((f) => f.cis === '1.2.23')!.status, 'pass');
  const etcd = benchmark.verify(ctx).find((f) => f.cis === '1.2.26')!;
  t.is(etcd.status, 'warn');
  t.regex(etcd.reason, /cluster-init: true/);
  t.true(podSecurity.verify(ctx).every((f) => f.status === 'pass'));
  t.true(networkPolicy.verify(ctx).every((f) => f.status === 'pass'));
  t.deepEqual(k3sConfig.plan(ctx).changes, [], 'converged');
  // The operator's config.yaml kept its values: ours were appended.
  t.is(fs.readFileSync(host.file('/etc/rancher/k3s/config.yaml'), 'utf8'), 'kube-apiserver-arg: [feature-gates=Foo=true]\nnode-name: n1\n');
});

test('a later drop-in that sets our key without + is named, and the flags it wiped fail', async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host, { k3s: 'v1.28' });
  await converge(ctx, [k3sConfig]);
  host.write('/etc/rancher/k3s/config.yaml.d/95-site.yaml', 'kube-controller-manager-arg: [bind-address=127.0.0.1]\nkubelet-arg+: [max-pods=200]\n');
  const findings = k3sConfig.verify(ctx);
  const wipe = findings.find((f) => f.item === '/etc/rancher/k3s/config.yaml.d/95-site.yaml: kube-controller-manager-arg')!;
  t.is(wipe.status, 'fail');
  t.regex(wipe.reason, /95-site\.yaml sorts after .*90-k3s-hostprep\.yaml and sets kube-controller-manager-arg without "\+"/);
  // The check the wiped flag served fails, as kube-bench's would, naming what is left and where it comes from.
  const gc = benchmark.verify(ctx).find((f) => f.cis === '1.3.1')!;
  t.is(gc.status, 'warn', 'unscored in k3s-cis-1.9');
  t.regex(gc.reason, /no "terminated-pod-gc-threshold"/);
  t.false(
    findings.some((f) => f.item.endsWith(': kubelet-arg')),
    'kubelet-arg+ appends and is fine',
  );
});

test('an agent writes only its kubelet flags; server-only files are not its business', async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host, { role: 'agent', k3s: 'v1.28' });
  await converge(ctx, [k3sConfig]);
  const written = parse(fs.readFileSync(host.file(DROPIN), 'utf8'));
  t.deepEqual(Object.keys(written), ['protect-kernel-defaults', 'kubelet-arg+']);
  t.true(written['kubelet-arg+'].includes('streaming-connection-idle-timeout=5m'));
  t.deepEqual(
    k3sConfig.verify(ctx).map((f) => `${f.status} ${f.cis ?? '-'}`),
    ['pass -'],
  );
  // An agent is judged on the node checks only (kube-bench --targets node): no 1.x, 2.x, 3.x or 5.x.
  const ids = benchmark.verify(ctx).map((f) => f.cis ?? '');
  t.true(ids.some((id) => id.startsWith('4.2.')));
  t.false(
    ids.some((id) => /^[1235]\./.test(id)),
    ids.join(' '),
  );
  t.deepEqual(podSecurity.roles, ['server']);
  t.deepEqual(networkPolicy.roles, ['server']);
});

test('v1.24: psa.yaml only for EventRateLimit (none when it is off), PodSecurityPolicies in policy.yaml', async (t) => {
  const host = new TestHost(COMPLIANT);
  const off = context(host, { k3s: 'v1.24.17+k3s1', config: parseConfig('eventRateLimit: false\n', 'c.yaml') });
  await converge(off, [podSecurity]);
  t.false(fs.existsSync(host.file(PSA)));
  const [skip] = podSecurity.verify(off);
  t.is(skip!.status, 'skip');
  t.regex(skip!.reason, /predates Pod Security admission/);
  const ctx = context(host, { k3s: 'v1.24.17+k3s1' });
  await converge(ctx, [networkPolicy, podSecurity, k3sConfig]);
  t.deepEqual(
    parse(fs.readFileSync(host.file(PSA), 'utf8')).plugins.map((p: { name: string }) => p.name),
    ['EventRateLimit'],
  );
  t.regex(fs.readFileSync(host.file(POLICY), 'utf8'), /kind: PodSecurityPolicy/);
  t.is(networkPolicy.verify(ctx)[0]!.cis, '5.3.2, 5.2.1');
  // Moving the node to v1.25: policy.yaml is ours and is rewritten without PSPs; psa.yaml appears.
  const newer = context(host, { k3s: 'v1.25.16+k3s4' });
  t.is(networkPolicy.verify(newer)[0]!.status, 'fail');
  await converge(newer, [networkPolicy, podSecurity, k3sConfig]);
  t.notRegex(fs.readFileSync(host.file(POLICY), 'utf8'), /kind: PodSecurityPolicy|policy\/v1beta1/);
  t.true(fs.existsSync(host.file(PSA)));
});

test('Rancher-managed (50-rancher.yaml): no drop-in, no psa.yaml, flags judged with the fix in the cluster spec', async (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml', '{"kube-apiserver-arg":["audit-log-maxage=30"],"protect-kernel-defaults":true}');
  const ctx = context(host, { k3s: 'v1.28' });
  t.deepEqual(k3sConfig.plan(ctx), { changes: [], blocked: [] });
  t.deepEqual(podSecurity.plan(ctx), { changes: [], blocked: [] });
  await converge(ctx, [networkPolicy, podSecurity, k3sConfig]);
  t.false(fs.existsSync(host.file(DROPIN)));
  t.false(fs.existsSync(host.file(PSA)));
  t.true(fs.existsSync(host.file(POLICY)), 'network policies stay: K3s applies its manifests directory');
  const [flags] = k3sConfig.verify(ctx);
  t.is(flags!.status, 'pass', 'no drop-in is right here');
  t.regex(
    flags!.reason,
    /50-rancher\.yaml exists \(a regular file owned by root\): Rancher owns K3s' flags; they are judged like any node's, and fixed in the cluster spec/,
  );
  t.true(
    benchmark.verify(ctx).some((f) => f.cis === '1.2.17' && f.status === 'pass'),
    "Rancher's audit-log-maxage=30 is judged",
  );
  t.regex(podSecurity.verify(ctx)[0]!.reason, /Rancher's pod security admission template/);
  // The config can say so too.
  const host2 = new TestHost(COMPLIANT);
  const ctx2 = context(host2, { k3s: 'v1.28', config: parseConfig('rancherManaged: true\n', 'c.yaml') });
  t.is(k3sConfig.verify(ctx2)[0]!.status, 'pass');
  t.regex(k3sConfig.verify(ctx2)[0]!.reason, /rancherManaged: true in c\.yaml/);
});

test("components disabled in the config or in K3s' own configuration lose their allow policies", async (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/rancher/k3s/config.yaml', 'disable: [traefik]\n');
  const ctx = context(host, { k3s: 'v1.28', config: parseConfig('disable: [metrics-server]\n', 'c.yaml') });
  await converge(ctx, [networkPolicy]);
  const text = fs.readFileSync(host.file(POLICY), 'utf8');
  t.notRegex(text, /allow-all/);
  t.regex(text, /default-network-dns-policy/);
});

test('a hand-written psa.yaml is not replaced without --force', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write(PSA, 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins: []\n', 0o600);
  const plan = podSecurity.plan(context(host, { k3s: 'v1.28' }));
  t.deepEqual(plan.changes, []);
  t.regex(plan.blocked[0]!.reason, /not written by k3s-hostprep/);
  const forced = podSecurity.plan(context(host, { k3s: 'v1.28', force: true }));
  t.true(forced.changes.some((c) => c.kind === 'file' && c.backup));
});

test("flags in K3s' unit count after the files, and are named as the source", async (t) => {
  const host = new TestHost(COMPLIANT);
  host.write(
    '/etc/systemd/system/k3s.service',
    "[Service]\nExecStart=/usr/local/bin/k3s \\\n    server \\\n\t'--kube-apiserver-arg' \\\n\t'audit-log-maxbackup=2' \\\n\t--kube-apiserver-arg=profiling=true \\\n\t'--disable' 'metrics-server' \\\n",
  );
  const ctx = context(host, { k3s: 'v1.28' });
  await converge(ctx, [networkPolicy, k3sConfig]);
  const findings = benchmark.verify(ctx);
  const profiling = findings.find((f) => f.cis === '1.2.15')!;
  t.is(profiling.status, 'fail');
  t.regex(profiling.reason, /Set by: --profiling=true \(\/etc\/systemd\/system\/k3s\.service \(ExecStart\)\)/);
  // A repeated flag: kube-bench reads the first occurrence on the logged line, our drop-in's 10.
  t.is(findings.find((f) => f.cis === '1.2.18')!.status, 'pass');
  t.notRegex(fs.readFileSync(host.file(POLICY), 'utf8'), /allow-all-metrics-server/);
});
