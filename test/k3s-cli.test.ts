/**
 * The K3s side of the built command, in a private mount namespace (see helpers/sandbox.ts):
 * policy.yaml, psa.yaml and the config.yaml.d drop-in for a v1.24 server, a v1.25+ server, an
 * agent and a Rancher-managed server; a later drop-in that clobbers our keys; a configuration
 * below the benchmark's audit retention minimum.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { COMPLIANT, HOSTILE, Sandbox, isRoot } from './helpers/sandbox.js';

const it = isRoot() ? test : test.skip;
const DROPIN = '/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml';
const PSA = '/var/lib/rancher/k3s/server/psa.yaml';
const POLICY = '/var/lib/rancher/k3s/server/manifests/policy.yaml';
const CONFIG = '/etc/k3s-hostprep/config.yaml';

/** A k3s in /usr/local/sbin inside the namespace that prints a version and records that it ran. */
function fakeK3s(s: Sandbox, version: string): string {
  const log = s.path('k3s.log');
  s.program('k3s', `#!/bin/sh\necho "$*" >> ${log}\necho "k3s version ${version} (1234abcd)"\necho "go version go1.22.5"\n`);
  return log;
}

function read(s: Sandbox, p: string): string {
  return fs.readFileSync(s.host(p), 'utf8');
}

function kinds(text: string): string[] {
  return parseAllDocuments(text as string).map((d) => (d as { toJS(): { kind: string } }).toJS().kind);
}

function mode(s: Sandbox, p: string): number {
  return fs.statSync(s.host(p)).mode & 0o7777;
}

type Json = {
  controls: Array<{ id: string; status: string; findings: Array<{ item: string; status: string; cis?: string; reason: string }> }>;
  k3s: { version: string; source: string };
  [k: string]: unknown;
};
const control = (r: Json, id: string) => r.controls.find((c) => c.id === id)!;

it('a v1.24 server: PodSecurityPolicies in policy.yaml, psa.yaml only for EventRateLimit, PodSecurityPolicy admission in the drop-in', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const apply = await s.cli('apply', '--k3s-version', 'v1.24.17+k3s1', '--json');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  const report = JSON.parse(apply.stdout) as Json;
  t.deepEqual(report.k3s, { version: 'v1.24.17+k3s1', source: '--k3s-version' });
  t.is(mode(s, POLICY), 0o600);
  t.is(mode(s, DROPIN), 0o600);
  t.deepEqual(
    parse(read(s, PSA)).plugins.map((p: { name: string }) => p.name),
    ['EventRateLimit'],
    'no Pod Security admission before v1.25',
  );
  const k = kinds(read(s, POLICY));
  t.is(k.filter((x) => x === 'PodSecurityPolicy').length, 3);
  t.true(k.includes('NetworkPolicy') && k.includes('ClusterRoleBinding') && k.includes('RoleBinding'));
  const drop = parse(read(s, DROPIN));
  t.is(drop['kube-apiserver-arg+'][0], 'enable-admission-plugins=NodeRestriction,PodSecurityPolicy,NamespaceLifecycle,ServiceAccount,EventRateLimit');
  t.is(control(report, 'pod-security').status, 'pass');
  const check = await s.cli('check', '--k3s-version', 'v1.24.17+k3s1');
  t.is(check.exitCode, 0, check.stdout);
  t.regex(check.stdout, /K3s: v1\.24\.17\+k3s1 \(--k3s-version\)/);
  t.regex(check.stdout, /Benchmark: k3s-cis-1\.24 /);
  t.regex(check.stdout, /kube-bench\s+1\.2\.13\s+PASS/);
  s.dispose();
});

it('a v1.25+ server from INSTALL_K3S_VERSION: psa.yaml at restricted, wired in by the drop-in; no v1beta1 object', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.setup.push('export INSTALL_K3S_VERSION=v1.28.5+k3s1');
  const apply = await s.cli('apply', '--json');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  const report = JSON.parse(apply.stdout) as Json;
  t.deepEqual(report.k3s, { version: 'v1.28.5+k3s1', source: 'INSTALL_K3S_VERSION in the environment' });
  t.is(mode(s, PSA), 0o600);
  const psa = parse(read(s, PSA));
  t.is(psa.kind, 'AdmissionConfiguration');
  t.is(psa.plugins[0].configuration.defaults.enforce, 'restricted');
  t.notRegex(read(s, POLICY), /policy\/v1beta1/);
  t.true(parse(read(s, DROPIN))['kube-apiserver-arg+'].includes(`admission-control-config-file=${PSA}`));
  t.is(control(report, 'pod-security').status, 'pass');
  // kube-bench's 5.2.1 is a manual check: it warns whatever the node holds, and so does the report.
  const fiveTwoOne = control(report, 'kube-bench').findings.find((f) => f.cis === '5.2.1')!;
  t.is(fiveTwoOne.status, 'warn');
  t.regex(fiveTwoOne.reason, /manual/);
  s.dispose();
});

it('the installed k3s binary decides the version on a live host, before INSTALL_K3S_VERSION', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  const log = fakeK3s(s, 'v1.24.9+k3s2');
  s.setup.push('export INSTALL_K3S_VERSION=v1.30.0+k3s1');
  const check = await s.cli('check', '--json');
  const report = JSON.parse(check.stdout) as Json;
  t.is(report.k3s.version, 'v1.24.9+k3s2');
  t.regex(report.k3s.source, /k3s --version$/);
  t.is(fs.readFileSync(log, 'utf8'), '--version\n');
  // Flag and config come first, and then the binary is not run at all.
  fs.writeFileSync(log, '');
  s.write(CONFIG, 'k3sVersion: v1.27.1+k3s1\n');
  const configured = JSON.parse((await s.cli('check', '--json')).stdout) as Json;
  t.deepEqual(configured.k3s, { version: 'v1.27.1+k3s1', source: `k3sVersion in ${CONFIG}` });
  t.is(fs.readFileSync(log, 'utf8'), '');
  s.dispose();
});

it("under --root the image's k3s binary is never executed", async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  const image = s.path('image');
  const marker = s.path('ran');
  fs.mkdirpSync(path.join(image, 'usr/local/bin'));
  fs.writeFileSync(path.join(image, 'usr/local/bin/k3s'), `#!/bin/sh\ntouch ${marker}\necho "k3s version v1.24.1+k3s1 (x)"\n`, { mode: 0o755 });
  s.setup.push(`export PATH=${path.join(image, 'usr/local/bin')}:$PATH`);
  const check = JSON.parse((await s.cli('check', '--root', image, '--json')).stdout) as Json;
  t.regex(check.k3s.source, /^default: the newest line/);
  t.false(fs.existsSync(marker));
  s.dispose();
});

it('an agent: the drop-in carries only the kubelet flags; nothing under /var/lib/rancher', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write('/etc/systemd/system/k3s-agent.service', '[Service]\nExecStart=/usr/local/bin/k3s agent\n');
  const apply = await s.cli('apply', '--json', '--k3s-version', 'v1.28.5+k3s1');
  t.is(apply.exitCode, 0, apply.stdout);
  const report = JSON.parse(apply.stdout) as Json;
  t.is(report.role, 'agent');
  const drop = parse(read(s, DROPIN));
  t.deepEqual(Object.keys(drop), ['protect-kernel-defaults', 'kubelet-arg+'], 'no server flags');
  t.true(drop['kubelet-arg+'].includes('streaming-connection-idle-timeout=5m'));
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  t.is(control(report, 'network-policy').status, 'skip');
  t.is(control(report, 'pod-security').status, 'skip');
  t.deepEqual(
    control(report, 'k3s-config').findings.map((f) => `${f.status} ${f.cis ?? '-'}`),
    ['pass -'],
  );
  const bench = control(report, 'kube-bench').findings;
  t.is(bench.find((f) => f.cis === '4.2.6')!.status, 'pass', "k3s-cis-1.9's 4.2.6: make-iptables-util-chains");
  t.false(
    bench.some((f) => /^[1235]\./.test(f.cis ?? '')),
    'an agent is judged on the node checks only',
  );
  s.dispose();
});

it('a Rancher-managed server: no drop-in and no psa.yaml, host-level controls and policy.yaml stay, flags judged', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const rancher = '{"kube-apiserver-arg":["audit-log-maxage=30"],"protect-kernel-defaults":true}\n';
  s.write('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml', rancher, 0o600);
  const apply = await s.cli('apply', '--json', '--k3s-version', 'v1.28.5+k3s1');
  t.is(apply.exitCode, 0, apply.stdout);
  const report = JSON.parse(apply.stdout) as Json;
  t.false(fs.existsSync(s.host(DROPIN)));
  t.false(fs.existsSync(s.host(PSA)));
  t.true(fs.existsSync(s.host(POLICY)));
  t.is(s.kernel('kernel.panic'), '10', 'host-level controls still run');
  t.is(read(s, '/etc/rancher/k3s/config.yaml.d/50-rancher.yaml'), rancher, "Rancher's file untouched");
  const flags = control(report, 'k3s-config').findings[0]!;
  t.is(flags.status, 'pass');
  t.regex(flags.reason, /the cluster spec's business/);
  t.true(
    control(report, 'kube-bench').findings.some((f) => f.cis === '1.2.15' && f.status === 'pass'),
    'flag checks still judged',
  );
  t.is(control(report, 'pod-security').findings[0]!.status, 'skip');
  const template = await s.cli('render', 'rancher-cluster', '--k3s-version', 'v1.28.5+k3s1');
  t.is(template.exitCode, 0);
  const cluster = parse(template.stdout);
  t.is(cluster.spec.defaultPodSecurityAdmissionConfigurationTemplateName, 'rancher-restricted');
  t.true(cluster.spec.rkeConfig.machineGlobalConfig['kube-apiserver-arg'].includes('audit-log-maxage=30'));
  s.dispose();
});

it('a later drop-in that sets our key without + is named; apply leaves it alone and fails', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  t.is((await s.cli('apply', '--k3s-version', 'v1.28.5+k3s1')).exitCode, 0);
  const local = 'kube-apiserver-arg:\n  - audit-log-maxage=7\n';
  s.write('/etc/rancher/k3s/config.yaml.d/99-local.yaml', local, 0o600);
  const check = await s.cli('check', '--k3s-version', 'v1.28.5+k3s1');
  t.is(check.exitCode, 1, check.stdout);
  t.regex(
    check.stdout,
    /\[FAIL\] k3s-config \/etc\/rancher\/k3s\/config\.yaml\.d\/99-local\.yaml: kube-apiserver-arg: .*sorts after .*90-k3s-hostprep\.yaml and sets kube-apiserver-arg without "\+"/,
  );
  // k3s-cis-1.9's audit-log checks are unscored: kube-bench warns, naming where the value comes from.
  t.regex(check.stdout, /kube-bench\s+1\.2\.17\s+WARN\s+Ensure that the --audit-log-maxage/);
  t.regex(check.stdout, /Set by: --audit-log-maxage=7 \(\/etc\/rancher\/k3s\/config\.yaml\.d\/99-local\.yaml\)/);
  const apply = await s.cli('apply', '--k3s-version', 'v1.28.5+k3s1');
  t.is(apply.exitCode, 1);
  t.is(read(s, '/etc/rancher/k3s/config.yaml.d/99-local.yaml'), local);
  // Written with "+", the same file is fine.
  s.write('/etc/rancher/k3s/config.yaml.d/99-local.yaml', 'kube-apiserver-arg+:\n  - audit-log-maxage=60\n', 0o600);
  const fixed = await s.cli('check', '--k3s-version', 'v1.28.5+k3s1');
  t.is(fixed.exitCode, 0, fixed.stdout);
  t.regex(fixed.stdout, /kube-bench\s+1\.2\.17\s+PASS/);
  t.notRegex(fixed.stdout, /99-local\.yaml/);
  s.dispose();
});

it('audit retention below the benchmark minimum exits 2 and writes nothing', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, 'audit:\n  logMaxAge: 7\n');
  for (const command of ['apply', 'plan', 'check']) {
    const r = await s.cli(command);
    t.is(r.exitCode, 2, command);
    t.regex(r.stderr, /config\.yaml: audit\.logMaxAge: expected an integer of at least 30 \(kube-bench's minimum for --audit-log-maxage\), got 7/);
  }
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  t.deepEqual(s.list('etc-sysctl.d'), []);
  t.deepEqual(s.list('etc-upper'), ['k3s-hostprep', 'k3s-hostprep/config.yaml']);
  t.is(s.kernel('kernel.panic'), '-1');
  s.dispose();
});

it('a K3s version that does not parse exits 2 and writes nothing, wherever it came from', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const flag = await s.cli('apply', '--k3s-version', 'latest');
  t.is(flag.exitCode, 2);
  t.regex(flag.stderr, /--k3s-version: expected a K3s version/);
  const twoBuilds = await s.cli('check', '--k3s-version', 'v1.28.5+k3s1+extra');
  t.is(twoBuilds.exitCode, 2, 'one build suffix at most');
  t.regex(twoBuilds.stderr, /--k3s-version: expected a K3s version such as v1\.28\.5\+k3s1 or v1\.28, got "v1\.28\.5\+k3s1\+extra"/);
  const unknown = await s.cli('check', '--benchmark', 'cis-1.9');
  t.is(unknown.exitCode, 2);
  t.regex(unknown.stderr, /--benchmark: unknown benchmark "cis-1\.9"; expected one of k3s-cis-1\.23, k3s-cis-1\.24, k3s-cis-1\.7, k3s-cis-1\.8, k3s-cis-1\.9/);
  s.setup.push('export INSTALL_K3S_VERSION=stable');
  const env = await s.cli('apply');
  t.is(env.exitCode, 2);
  t.regex(env.stderr, /INSTALL_K3S_VERSION: expected a K3s version such as v1\.28\.5\+k3s1/);
  t.deepEqual(
    s.list('var-lib').filter((n) => !n.startsWith('k3s-hostprep')),
    [],
  );
  t.deepEqual(s.list('etc-upper'), []);
  s.dispose();
});

it('render prints every artefact exactly as apply writes it', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, 'eventRateLimit:\n  limits:\n    - {type: Server, qps: 5000, burst: 20000}\ndisable: [traefik]\n');
  const v = ['--k3s-version', 'v1.24.17+k3s1'];
  const rendered: Record<string, string> = {};
  for (const name of ['sysctl', 'audit', 'policy', 'psa', 'k3s-config', 'rancher-cluster']) {
    const r = await s.cli('render', name, ...v);
    t.is(r.exitCode, 0, `${name}: ${r.stderr}`);
    rendered[name] = r.stdout;
  }
  t.is((await s.cli('apply', ...v)).exitCode, 0);
  t.is(read(s, POLICY), rendered.policy!);
  t.is(read(s, PSA), rendered.psa!, 'v1.24 with EventRateLimit: psa.yaml holds its configuration');
  t.is(read(s, DROPIN), rendered['k3s-config']!);
  t.deepEqual(
    parse(read(s, PSA)).plugins.map((p: { name: string }) => p.name),
    ['EventRateLimit'],
  );
  t.notRegex(rendered.policy!, /traefik/);
  fs.writeFileSync(s.path('off.yaml'), 'eventRateLimit: false\n');
  const noPsa = await s.cli('render', 'psa', '--k3s-version', 'v1.24.17', '--config', s.path('off.yaml'));
  t.is(noPsa.exitCode, 2);
  t.regex(noPsa.stderr, /gets no psa\.yaml/);
  s.dispose();
});

it('each way K3s would refuse to start makes check exit 1, naming the cause', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, 'eventRateLimit: false\n');
  t.is((await s.cli('apply', '--k3s-version', 'v1.28.5+k3s1')).exitCode, 0);
  t.is((await s.cli('check', '--k3s-version', 'v1.28.5+k3s1')).exitCode, 0, 'compliant as applied');
  const cases: Array<[string, string, RegExp]> = [
    [
      'EventRateLimit without its configuration',
      'kube-apiserver-arg+: [enable-admission-plugins=EventRateLimit]\n',
      /enables EventRateLimit, but \/var\/lib\/rancher\/k3s\/server\/psa\.yaml gives it no configuration: the API server refuses to start \("limits: must not be empty"/,
    ],
    [
      'PodSecurityPolicy on v1.25+',
      'kube-apiserver-arg+: [enable-admission-plugins=PodSecurityPolicy]\n',
      /enables PodSecurityPolicy, which Kubernetes v1\.28\.5\+k3s1 no longer has: the API server refuses to start/,
    ],
    [
      'a flag naming a missing file',
      'kube-apiserver-arg+: [encryption-provider-config=/etc/k3s/missing.json]\n',
      /sets --encryption-provider-config=\/etc\/k3s\/missing\.json, which does not exist: the API server refuses to start/,
    ],
    // Written after the drop-in's, so it is the one the API server takes (the last of a repeated flag).
    [
      'an admission configuration that does not parse',
      'LATER kube-apiserver-arg+: [admission-control-config-file=/etc/k3s/admission.yaml]\n',
      /\/etc\/k3s\/admission\.yaml: plugins: expected a list \(named in .*99-site\.yaml\): the API server refuses to start/,
    ],
    ['a configuration file that does not parse', 'kube-apiserver-arg: [unclosed\n', /config\.yaml invalid YAML.*K3s refuses to start/],
  ];
  s.write('/etc/k3s/admission.yaml', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins: {not: a list}\n', 0o600);
  for (const [what, text, says] of cases) {
    const later = text.startsWith('LATER ');
    s.write(later ? '/etc/rancher/k3s/config.yaml.d/99-site.yaml' : '/etc/rancher/k3s/config.yaml', text.replace(/^LATER /, ''), 0o600);
    const check = await s.cli('check', '--k3s-version', 'v1.28.5+k3s1');
    t.is(check.exitCode, 1, what);
    t.regex(check.stdout, says, what);
    fs.rmSync(s.host(later ? '/etc/rancher/k3s/config.yaml.d/99-site.yaml' : '/etc/rancher/k3s/config.yaml'));
  }
  s.dispose();
});
