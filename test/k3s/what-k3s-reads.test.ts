/**
 * What K3s really reads, and the hosts that fooled the verdict into COMPLIANT: a unit drop-in
 * that changes ExecStart=, a --config / -c / K3S_CONFIG_FILE that moves K3s off config.yaml.d,
 * a repeated "key+:" in one file, and a dangling 50-rancher.yaml. Each case asserts what K3s and
 * kube-bench would do, through the controls' verdicts.
 */
import test from 'ava';
import * as fs from 'node:fs';
import { parseConfig } from '../../src/config/load.js';
import { auditPolicy } from '../../src/controls/audit-policy.js';
import { benchmark } from '../../src/controls/benchmark.js';
import { k3sConfig } from '../../src/controls/k3s-config.js';
import { podSecurity } from '../../src/controls/pod-security.js';
import type { Context, Control, Finding } from '../../src/controls/types.js';
import { mergeK3sConfig, parseK3sConfigText, type K3sConfigFile } from '../../src/k3s/config-files.js';
import { k3sSources, rancherManagement } from '../../src/k3s/node.js';
import { dropInPaths, loadUnit } from '../../src/k3s/unit-sources.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

const UNIT = '/etc/systemd/system/k3s.service';
const UNIT_TEXT =
  '[Unit]\nDescription=Lightweight Kubernetes\n[Service]\nType=notify\nEnvironmentFile=-/etc/default/%N\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=/usr/local/bin/k3s \\\n    server \\\n';

async function prepared(k3s = 'v1.28.5+k3s1', config?: string): Promise<{ host: TestHost; ctx: Context }> {
  const host = new TestHost(COMPLIANT);
  host.write(UNIT, UNIT_TEXT);
  const ctx = context(host, { k3s, ...(config ? { config: parseConfig(config, 'c.yaml') } : {}) });
  for (const c of [auditPolicy, podSecurity, k3sConfig] as Control[]) {
    const outcome = await c.apply(ctx, c.plan(ctx));
    if (outcome.hostErrors.length > 0) throw new Error(outcome.hostErrors.join('; '));
  }
  return { host, ctx };
}

const byId = (findings: Finding[], id: string) => findings.find((f) => f.cis === id)!;
const failing = (findings: Finding[]) => findings.filter((f) => f.status === 'fail');

test("a prepared server with the installer's unit: K3s will start and no flag check fails", async (t) => {
  const { ctx } = await prepared();
  t.deepEqual(failing(k3sConfig.verify(ctx)), []);
  t.deepEqual(
    failing(benchmark.verify(ctx)).map((f) => f.cis),
    [],
  );
});

test('k3s.service.d: a drop-in that resets ExecStart= and adds --protect-kernel-defaults=false is what systemd runs', async (t) => {
  const { host } = await prepared('v1.24.17+k3s1');
  const ctx = context(host, { k3s: 'v1.24.17+k3s1' });
  t.is(byId(benchmark.verify(ctx), '4.2.6').status, 'pass', "k3s-cis-1.24's 4.2.6 is protect-kernel-defaults");
  host.write('/etc/systemd/system/k3s.service.d/override.conf', '[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s server --protect-kernel-defaults=false\n');
  const pkd = byId(benchmark.verify(ctx), '4.2.6');
  t.is(pkd.status, 'fail');
  t.regex(pkd.reason, /protect-kernel-defaults: false \(\/etc\/systemd\/system\/k3s\.service\.d\/override\.conf \(ExecStart\)\)/);
  // Drop-ins apply in name order across directories; the same name in /etc wins over /usr/lib.
  host.write('/usr/lib/systemd/system/k3s.service.d/override.conf', '[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s server\n');
  host.write(
    '/usr/lib/systemd/system/k3s.service.d/zz-late.conf',
    '[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s server --protect-kernel-defaults=true\n',
  );
  t.deepEqual(dropInPaths(host, 'k3s.service'), ['/etc/systemd/system/k3s.service.d/override.conf', '/usr/lib/systemd/system/k3s.service.d/zz-late.conf']);
  t.is(byId(benchmark.verify(ctx), '4.2.6').status, 'pass', 'zz-late.conf runs last');
  fs.rmSync(host.file('/usr/lib/systemd/system/k3s.service.d/zz-late.conf'));
  // A second ExecStart= without a reset: systemd refuses to start a Type=notify service.
  host.write('/etc/systemd/system/k3s.service.d/override.conf', '[Service]\nExecStart=/usr/local/bin/k3s server --protect-kernel-defaults=false\n');
  const refused = failing(k3sConfig.verify(ctx));
  t.is(refused.length, 1);
  t.regex(refused[0]!.reason, /override\.conf adds a second ExecStart= .*systemd refuses to start k3s\.service/);
});

test('--config, -c and K3S_CONFIG_FILE move K3s off config.yaml.d: the drop-in is ignored and the flags are judged on what K3s reads', async (t) => {
  const { host, ctx } = await prepared();
  host.write('/etc/k3s/alt.yaml', 'write-kubeconfig-mode: "0600"\n', 0o600);
  for (const [how, unit, env] of [
    ['--config', `${UNIT_TEXT}    --config /etc/k3s/alt.yaml \\\n`, null],
    ['-c', `${UNIT_TEXT}    -c=/etc/k3s/alt.yaml \\\n`, null],
    ['K3S_CONFIG_FILE', UNIT_TEXT, 'K3S_CONFIG_FILE="/etc/k3s/alt.yaml"\n'],
  ] as const) {
    host.write(UNIT, unit);
    if (env) host.write('/etc/systemd/system/k3s.service.env', env, 0o600);
    const sources = k3sSources(host, 'server');
    t.is(sources.configFile.path, '/etc/k3s/alt.yaml', how);
    t.deepEqual(
      sources.files.map((f) => f.path),
      ['/etc/k3s/alt.yaml'],
      how,
    );
    const moved = failing(k3sConfig.verify(ctx)).find((f) => f.item === 'K3s configuration file')!;
    t.regex(moved.reason, /K3s reads \/etc\/k3s\/alt\.yaml and \/etc\/k3s\/alt\.yaml\.d .*90-k3s-hostprep\.yaml is ignored/, how);
    // kube-bench judges K3s' own defaults: the audit log flags are gone (unscored in k3s-cis-1.9: WARN).
    const findings = benchmark.verify(ctx);
    t.is(byId(findings, '1.2.16').status, 'warn', how);
    t.is(byId(findings, '1.2.9').status, 'warn', how);
    if (env) fs.rmSync(host.file('/etc/systemd/system/k3s.service.env'));
  }
  // The alt file's own drop-in directory is read; a missing explicit file with no drop-ins stops K3s.
  host.write(UNIT, `${UNIT_TEXT}    --config /etc/k3s/missing.yaml \\\n`);
  t.true(failing(k3sConfig.verify(ctx)).some((f) => /missing\.yaml does not exist .*K3s refuses to start/.test(f.reason)));
  host.write('/etc/k3s/missing.yaml.d/10-a.yaml', 'kube-apiserver-arg: [profiling=true]\n');
  t.deepEqual(
    k3sSources(host, 'server').files.map((f) => f.path),
    ['/etc/k3s/missing.yaml.d/10-a.yaml'],
  );
  t.is(byId(benchmark.verify(ctx), '1.2.15').status, 'fail');
  // A config fetched over HTTP at K3s' start cannot be judged: fail closed.
  host.write(UNIT, `${UNIT_TEXT}    --config https://example.invalid/k3s.yaml \\\n`);
  t.true(failing(benchmark.verify(ctx)).some((f) => /fetched by K3s at its start/.test(f.reason)));
});

test('two "kube-apiserver-arg+:" keys in one file both append, in document order', async (t) => {
  const parsed = parseK3sConfigText(
    'kube-apiserver-arg+:\n  - anonymous-auth=true\nkube-apiserver-arg+:\n  - audit-log-maxage=60\n',
    '/x.yaml',
  ) as K3sConfigFile;
  t.deepEqual(
    parsed.entries.map((e) => [e.key, e.append]),
    [
      ['kube-apiserver-arg', true],
      ['kube-apiserver-arg', true],
    ],
  );
  const merged = mergeK3sConfig([{ path: '/a.yaml', entries: [{ key: 'kube-apiserver-arg', append: false, value: ['profiling=false'] }] }, parsed]);
  t.deepEqual(
    merged.get('kube-apiserver-arg')!.items.map((i) => i.value),
    ['profiling=false', 'anonymous-auth=true', 'audit-log-maxage=60'],
  );
  const { host, ctx } = await prepared();
  t.is(byId(benchmark.verify(ctx), '1.2.1').status, 'pass');
  host.write(
    '/etc/rancher/k3s/config.yaml.d/95-site.yaml',
    'kube-apiserver-arg+:\n  - anonymous-auth=true\nkube-apiserver-arg+:\n  - audit-log-maxage=60\n',
    0o600,
  );
  const anonymous = byId(benchmark.verify(ctx), '1.2.1');
  t.is(anonymous.status, 'fail', 'the first key is not lost to the second');
  t.regex(anonymous.reason, /--anonymous-auth=true \(\/etc\/rancher\/k3s\/config\.yaml\.d\/95-site\.yaml\)/);
});

test('a dangling 50-rancher.yaml is no Rancher management: K3s fails to read it, and the flags are still judged', async (t) => {
  const { host, ctx } = await prepared();
  fs.symlinkSync('/nonexistent/rancher.yaml', host.file('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml'));
  t.false(rancherManagement(ctx).managed);
  const findings = k3sConfig.verify(ctx);
  t.true(failing(findings).some((f) => /50-rancher\.yaml is a dangling symlink: K3s fails to read it and refuses to start/.test(f.reason)));
  t.true(
    findings.some((f) => f.item === '/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml' && f.status === 'pass'),
    'our drop-in is still judged',
  );
  t.true(
    benchmark.verify(ctx).some((f) => f.cis === '1.2.15' && f.status === 'pass'),
    'flag checks are not switched off',
  );
  // A regular file owned by another user proves nothing either.
  fs.rmSync(host.file('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml'));
  host.write('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml', '{}\n', 0o644);
  fs.chownSync(host.file('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml'), 65534, 65534);
  t.false(rancherManagement(ctx).managed);
  fs.chownSync(host.file('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml'), 0, 0);
  t.true(rancherManagement(ctx).managed);
});

test('a Rancher-managed node is judged on its node-level flags, and the fix points to the cluster spec', async (t) => {
  const host = new TestHost(COMPLIANT);
  host.write(UNIT, UNIT_TEXT);
  host.write('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml', '{"kube-apiserver-arg":["profiling=true"],"protect-kernel-defaults":true}', 0o600);
  const ctx = context(host, { k3s: 'v1.28.5+k3s1' });
  t.true(rancherManagement(ctx).managed);
  const profiling = byId(benchmark.verify(ctx), '1.2.15');
  t.is(profiling.status, 'fail');
  t.regex(profiling.reason, /fix it in the cluster spec/);
  t.notRegex(profiling.reason, /skip/);
});

test("the unit's environment: EnvironmentFile with %N, optional files, Environment= words", (t) => {
  const host = new TestHost(COMPLIANT);
  host.write(UNIT, UNIT_TEXT);
  host.write('/etc/default/k3s', '# site\nK3S_DATASTORE_ENDPOINT=postgres://db/k3s\n');
  host.write('/etc/systemd/system/k3s.service.d/env.conf', '[Service]\nEnvironment="A=1" K3S_URL=https://x:6443\nEnvironmentFile=/etc/k3s/required.env\n');
  const unit = loadUnit(host, 'k3s.service')!;
  t.is(unit.environment.get('K3S_DATASTORE_ENDPOINT')!.value, 'postgres://db/k3s');
  t.is(unit.environment.get('K3S_URL')!.value, 'https://x:6443');
  t.regex(unit.problems[0]!.message, /does not exist, and .*env\.conf requires it: systemd refuses to start k3s\.service/);
  t.deepEqual(
    k3sSources(host, 'server').environment!.entries.map((e) => `${e.key}=${String(e.value)}`),
    ['datastore-endpoint=postgres://db/k3s', 'server=https://x:6443'],
  );
});
