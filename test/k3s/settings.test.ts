import test from 'ava';
import { parse } from 'yaml';
import { defaultConfig, parseConfig } from '../../src/config/load.js';
import { judgeFlags } from '../../src/controls/benchmark.js';
import { k3sBenchmark } from '../../src/k3s/benchmarks/index.js';
import { GUIDE_KUBELET_CIPHERS } from '../../src/k3s/writers.js';
import { mergeK3sConfig, parseK3sConfigText, type K3sConfigFile } from '../../src/k3s/config-files.js';
import { dropInValues, k3sSettings, renderDropIn, renderRancherCluster } from '../../src/k3s/settings.js';
import { renderManaged } from '../../src/controls/managed.js';
import { version as v } from '../helpers/version.js';

const ERL = 'eventRateLimit:\n  limits:\n    - {type: Server, qps: 5000, burst: 20000}\n';

test("a v1.25+ server drop-in: + for list flags, the guide's values, psa.yaml wired in", (t) => {
  const doc = parse(renderDropIn(k3sSettings(defaultConfig(), v('v1.28.5+k3s1')), 'server', v('v1.28.5+k3s1')));
  t.deepEqual(Object.keys(doc), ['protect-kernel-defaults', 'kubelet-arg+', 'secrets-encryption', 'kube-apiserver-arg+', 'kube-controller-manager-arg+']);
  t.true(doc['protect-kernel-defaults']);
  t.true(doc['secrets-encryption']);
  // The guide's v1.25-v1.28 tab: make-iptables-util-chains belongs to the v1.24 tab only.
  t.deepEqual(doc['kubelet-arg+'], ['streaming-connection-idle-timeout=5m', `tls-cipher-suites=${GUIDE_KUBELET_CIPHERS}`, 'tls-min-version=VersionTLS12']);
  t.deepEqual(doc['kube-apiserver-arg+'], [
    'enable-admission-plugins=NodeRestriction,EventRateLimit',
    'audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml',
    'audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log',
    'audit-log-maxage=30',
    'audit-log-maxbackup=10',
    'audit-log-maxsize=100',
    'request-timeout=300s',
    'service-account-lookup=true',
    'admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml',
  ]);
  t.deepEqual(doc['kube-controller-manager-arg+'], ['terminated-pod-gc-threshold=10']);
});

test('v1.24 adds PodSecurityPolicy; EventRateLimit comes with its configuration file, and eventRateLimit: false drops both', (t) => {
  const old = parse(renderDropIn(k3sSettings(defaultConfig(), v('v1.24.17')), 'server', v('v1.24.17')));
  t.is(old['kube-apiserver-arg+'][0], 'enable-admission-plugins=NodeRestriction,PodSecurityPolicy,NamespaceLifecycle,ServiceAccount,EventRateLimit');
  t.true(old['kube-apiserver-arg+'].includes('admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml'));
  t.true(old['kubelet-arg+'].includes('make-iptables-util-chains=true'), "the guide's v1.24 tab");
  const off = parseConfig('eventRateLimit: false\n', 'c.yaml');
  const oldOff = parse(renderDropIn(k3sSettings(off, v('v1.24.17')), 'server', v('v1.24.17')));
  t.is(oldOff['kube-apiserver-arg+'][0], 'enable-admission-plugins=NodeRestriction,PodSecurityPolicy,NamespaceLifecycle,ServiceAccount');
  t.false(
    oldOff['kube-apiserver-arg+'].some((a: string) => a.startsWith('admission-control-config-file')),
    'v1.24 without EventRateLimit needs no admission configuration',
  );
  const newOff = parse(renderDropIn(k3sSettings(off, v('v1.30')), 'server', v('v1.30')));
  t.is(newOff['kube-apiserver-arg+'][0], 'enable-admission-plugins=NodeRestriction');
  t.true(newOff['kube-apiserver-arg+'].includes('admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml'), 'PodSecurity still reads it');
  const erl = parse(renderDropIn(k3sSettings(parseConfig(ERL, 'c.yaml'), v('v1.30')), 'server', v('v1.30')));
  t.is(erl['kube-apiserver-arg+'][0], 'enable-admission-plugins=NodeRestriction,EventRateLimit');
});

test('an agent gets only the kubelet flags; sized values come from the config', (t) => {
  const agent = parse(renderDropIn(k3sSettings(defaultConfig(), v('v1.28')), 'agent', v('v1.28')));
  t.deepEqual(agent, {
    'protect-kernel-defaults': true,
    'kubelet-arg+': ['streaming-connection-idle-timeout=5m', `tls-cipher-suites=${GUIDE_KUBELET_CIPHERS}`, 'tls-min-version=VersionTLS12'],
  });
  const knobs = parseConfig('kubelet: {tlsCipherSuites: false, podMaxPids: 4096}\n', 'c.yaml');
  t.deepEqual(parse(renderDropIn(k3sSettings(knobs, v('v1.33')), 'agent', v('v1.33')))['kubelet-arg+'], [
    'streaming-connection-idle-timeout=5m',
    'tls-min-version=VersionTLS12',
    'pod-max-pids=4096',
    'read-only-port=0',
  ]);
  const config = parseConfig('audit: {logMaxAge: 90, logMaxBackup: 20, logMaxSize: 200}\nterminatedPodGcThreshold: 1000\n', 'c.yaml');
  const server = parse(renderDropIn(k3sSettings(config, v('v1.28')), 'server', v('v1.28')));
  t.true(server['kube-apiserver-arg+'].includes('audit-log-maxage=90'));
  t.true(server['kube-apiserver-arg+'].includes('audit-log-maxbackup=20'));
  t.true(server['kube-apiserver-arg+'].includes('audit-log-maxsize=200'));
  t.deepEqual(server['kube-controller-manager-arg+'], ['terminated-pod-gc-threshold=1000']);
});

test('the Rancher template carries the same flags as the drop-in, by version range', (t) => {
  const config = parseConfig('audit: {logMaxAge: 45}\nterminatedPodGcThreshold: 50\n', 'c.yaml');
  for (const version of ['v1.24.17+k3s1', 'v1.28.5+k3s1']) {
    const drop = parse(renderDropIn(k3sSettings(config, v(version)), 'server', v(version)));
    const cluster = parse(renderRancherCluster(config, v(version)));
    t.is(cluster.apiVersion, 'provisioning.cattle.io/v1');
    t.is(cluster.kind, 'Cluster');
    t.is(cluster.spec.kubernetesVersion, version);
    t.true(cluster.spec.enableNetworkPolicy);
    const global = cluster.spec.rkeConfig.machineGlobalConfig;
    // Identical apart from the admission config file, which Rancher's PSA template replaces, and
    // EventRateLimit, which cannot run without the configuration that file carries.
    const withoutFile = drop['kube-apiserver-arg+']
      .filter((a: string) => !a.startsWith('admission-control-config-file'))
      .map((a: string) => (a.startsWith('enable-admission-plugins=') ? a.replace(',EventRateLimit', '') : a));
    t.deepEqual(global['kube-apiserver-arg'], withoutFile, version);
    t.regex(drop['kube-apiserver-arg+'][0], /,EventRateLimit$/, 'the drop-in enables it');
    t.deepEqual(global['kube-controller-manager-arg'], drop['kube-controller-manager-arg+']);
    t.is(global['secrets-encryption'], drop['secrets-encryption']);
    const selector = cluster.spec.rkeConfig.machineSelectorConfig[0].config;
    t.deepEqual(selector['kubelet-arg'], drop['kubelet-arg+']);
    t.is(selector['protect-kernel-defaults'], drop['protect-kernel-defaults']);
  }
  t.is(parse(renderRancherCluster(config, v('v1.28'))).spec.defaultPodSecurityAdmissionConfigurationTemplateName, 'rancher-restricted');
  t.is(parse(renderRancherCluster(config, v('v1.24.17'))).spec.defaultPodSecurityAdmissionConfigurationTemplateName, undefined);
  const erl = renderRancherCluster(parseConfig(ERL, 'c.yaml'), v('v1.28'));
  t.false(parse(erl).spec.rkeConfig.machineGlobalConfig['kube-apiserver-arg'][0].includes('EventRateLimit'), 'never without its configuration');
  t.regex(erl, /EventRateLimit is left out/);
});

test("dropInValues is exactly what the drop-in's YAML holds, key order included, for every role, version and configuration", (t) => {
  const configs = [
    defaultConfig(),
    parseConfig(ERL, 'c.yaml'),
    parseConfig('audit: {logMaxAge: 90, logMaxBackup: 20, logMaxSize: 200}\nterminatedPodGcThreshold: 1000\n', 'c.yaml'),
  ];
  let compared = 0;
  for (const version of ['v1.21.14+k3s1', 'v1.24.17', 'v1.25.0', 'v1.33']) {
    for (const config of configs) {
      for (const role of ['server', 'agent'] as const) {
        const settings = k3sSettings(config, v(version));
        const text = renderManaged(renderDropIn(settings, role, v(version)));
        const values = dropInValues(settings, role);
        t.deepEqual(values, parse(text), `${role} ${version}`);
        t.deepEqual(Object.keys(values), Object.keys(parse(text)));
        t.not(dropInValues(settings, role)['kubelet-arg+'], values['kubelet-arg+'], 'a fresh copy each time');
        compared++;
      }
    }
  }
  t.is(compared, 24);
});

function files(...texts: Array<[string, string]>): K3sConfigFile[] {
  return texts.map(([path, text]) => parseK3sConfigText(text, path) as K3sConfigFile);
}

function judge(_config: ReturnType<typeof defaultConfig>, version: string, role: 'server' | 'agent', list: K3sConfigFile[]) {
  return judgeFlags(k3sBenchmark(v(version)), v(version), role, mergeK3sConfig(list));
}

test('the merged flags of our own drop-in pass every scored flag check of the benchmark', (t) => {
  for (const [version, role] of [
    ['v1.24.17', 'server'],
    ['v1.28', 'server'],
    ['v1.28', 'agent'],
    ['v1.32.2', 'agent'],
    ['v1.33.1', 'server'],
  ] as const) {
    const drop = renderDropIn(k3sSettings(defaultConfig(), v(version)), role, v(version));
    const r = judge(defaultConfig(), version, role, files(['/d/90.yaml', drop]));
    for (const [id, result] of Object.entries(r)) {
      // Datastore-decided (etcd-cafile on SQLite) and the unscored checks left to the operator warn.
      if (result.state === 'FAIL')
        t.true(['1.2.26', '1.2.27', '1.2.29'].includes(id) && /etcd-cafile/.test(result.reason), `${version} ${role} ${id} ${result.reason}`);
    }
    t.true(Object.keys(r).length > (role === 'agent' ? 8 : 40));
  }
});

test("kube-bench's tests: minimums, booleans, first occurrence of a repeated flag, K3s defaults", (t) => {
  const config = defaultConfig();
  const r = judge(
    config,
    'v1.24.17',
    'server',
    files([
      '/c.yaml',
      [
        'protect-kernel-defaults: false',
        'kubelet-arg: [make-iptables-util-chains=false]',
        'kube-apiserver-arg:',
        '  - audit-log-maxage=29',
        '  - audit-log-maxbackup=10',
        '  - audit-log-maxsize=99',
        '  - enable-admission-plugins=AlwaysAdmit',
        '  - enable-admission-plugins=NodeRestriction',
        '  - disable-admission-plugins=ServiceAccount',
        '  - service-account-lookup=false',
        '',
      ].join('\n'),
    ]),
  );
  t.not(r['4.2.7']!.state, 'PASS', 'make-iptables-util-chains=false');
  t.not(r['1.2.20']!.state, 'PASS', 'maxage 29');
  t.is(r['1.2.21']!.state, 'PASS');
  t.not(r['1.2.22']!.state, 'PASS', 'maxsize 99');
  t.not(r['1.2.11']!.state, 'PASS', 'AlwaysAdmit, from the first of two repeated flags');
  t.not(r['1.2.16']!.state, 'PASS', 'NodeRestriction is only in the second --enable-admission-plugins: kube-bench reads the first');
  t.not(r['1.2.14']!.state, 'PASS', 'ServiceAccount disabled');
  t.not(r['1.2.24']!.state, 'PASS', 'service-account-lookup=false');
  t.not(r['1.3.1']!.state, 'PASS', 'no terminated-pod-gc-threshold');
  // Nothing set at all on v1.28 (k3s-cis-1.9): K3s' defaults pass, the audit flags do not.
  const empty = judge(config, 'v1.28', 'server', []);
  t.is(empty['1.2.14']!.state, 'PASS', "K3s' default NodeRestriction");
  t.is(empty['1.2.21']!.state, 'PASS', 'unset service-account-lookup');
  t.is(empty['4.2.6']!.state, 'PASS', 'unset make-iptables-util-chains');
  t.is(empty['1.2.16']!.state, 'WARN', 'audit-log-path is unscored in k3s-cis-1.9');
  t.is(empty['1.2.26']!.state, 'FAIL');
  t.not(empty['1.2.26']!.state, 'PASS', 'etcd-cafile on SQLite');
  t.is(judge(config, 'v1.28', 'server', files(['/c.yaml', 'cluster-init: true\n']))['1.2.26']!.state, 'PASS', 'embedded etcd');
});

test('4.2.4 on the kubelet lines of K3s v1.32.1-v1.32.3 fails without the pinned read-only-port', (t) => {
  t.is(judge(defaultConfig(), 'v1.32.2', 'agent', [])['4.2.4']!.state, 'FAIL');
  t.is(judge(defaultConfig(), 'v1.32.4', 'agent', [])['4.2.4']!.state, 'PASS');
  t.is(judge(defaultConfig(), 'v1.29.5', 'agent', [])['4.2.4']!.state, 'PASS');
  const drop = renderDropIn(k3sSettings(defaultConfig(), v('v1.32.2')), 'agent', v('v1.32.2'));
  t.is(judge(defaultConfig(), 'v1.32.2', 'agent', files(['/d/90.yaml', drop]))['4.2.4']!.state, 'PASS');
});

test('the last flag of a logged line carries the closing quote: the kubelet ciphers are kept off the end', (t) => {
  const only = files(['/c.yaml', `kubelet-arg: [tls-cipher-suites=${GUIDE_KUBELET_CIPHERS}]\n`]);
  t.is(judge(defaultConfig(), 'v1.33.1', 'agent', only)['4.2.12']!.state, 'WARN', 'last flag: the quote makes the last cipher unknown');
  const drop = renderDropIn(k3sSettings(defaultConfig(), v('v1.33.1')), 'agent', v('v1.33.1'));
  t.is(judge(defaultConfig(), 'v1.33.1', 'agent', files(['/d/90.yaml', drop]))['4.2.12']!.state, 'PASS');
});
