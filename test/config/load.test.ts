import test from 'ava';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/etc/k3s-hostprep/config.yaml';

function problems(text: string): string[] {
  const error = (() => {
    try {
      parseConfig(text, FILE);
    } catch (e) {
      return e;
    }
    return null;
  })();
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError for: ${text}`);
  return error.problems;
}

test("an empty file gives the defaults: the guide's starter audit policy", (t) => {
  const config = parseConfig('', FILE);
  t.is(config.role, undefined);
  t.deepEqual(config.audit.policy, { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] });
  t.is(config.source, FILE);
});

test('a full valid file is taken as written', (t) => {
  const config = parseConfig(
    'role: agent\naudit:\n  policy:\n    apiVersion: audit.k8s.io/v1\n    kind: Policy\n    omitStages: [RequestReceived]\n    rules:\n      - level: None\n        users: ["system:kube-proxy"]\n      - level: RequestResponse\n        resources: [{group: "", resources: [secrets]}]\n',
    FILE,
  );
  t.is(config.role, 'agent');
  t.is(config.audit.policy.rules.length, 2);
  t.is(config.audit.policy.rules[1]!.level, 'RequestResponse');
});

test('invalid YAML names the line', (t) => {
  const [p] = problems('role: [server\n');
  t.regex(p!, /invalid YAML at line \d+/);
});

test('an unknown key says what it may have meant', (t) => {
  const found = problems('rol: server\n');
  t.is(found.length, 1);
  t.regex(
    found[0]!,
    /^rol: unknown key \(did you mean "role"\?\); expected one of role, sysctl, audit, k3sVersion, rancherManaged, disable, networkPolicy, podSecurity, eventRateLimit, terminatedPodGcThreshold, benchmark, admission, kubelet, metrics, watch$/,
  );
});

test('wrong types and values name the key and the expectation', (t) => {
  t.deepEqual(problems('role: master\n'), ['role: expected one of server, agent, got "master"']);
  t.deepEqual(problems('audit: []\n'), ['audit: expected a mapping, got a list']);
  const audit = problems('audit:\n  policy:\n    apiVersion: audit.k8s.io/v1beta1\n    kind: Policy\n    rules: [{level: Everything}]\n');
  t.deepEqual(audit, [
    'audit.policy.apiVersion: expected one of audit.k8s.io/v1, got "audit.k8s.io/v1beta1"',
    'audit.policy.rules[0].level: expected one of None, Metadata, Request, RequestResponse, got "Everything"',
  ]);
  t.deepEqual(problems('audit:\n  policy: {apiVersion: audit.k8s.io/v1, kind: Policy, rules: []}\n'), [
    'audit.policy.rules: expected at least 1 item(s), got 0',
  ]);
});

test('duplicate keys and a top level that is not a mapping are rejected', (t) => {
  t.regex(problems('role: server\nrole: agent\n')[0]!, /unique|duplicate/i);
  t.deepEqual(problems('- role\n'), ['(top level): expected a mapping, got a list']);
});

test('the error message names the file', (t) => {
  const error = t.throws(() => parseConfig('role: 1', FILE), { instanceOf: ConfigError });
  t.true(error!.message.startsWith(`${FILE}: role: expected a string, got number 1`));
  t.is(error!.exitCode, 2);
});

test("the K3s settings have defaults: the guide's namespaces, retention minimums, GC threshold 10", (t) => {
  const config = parseConfig('', FILE);
  t.deepEqual(config.networkPolicy.namespaces, ['kube-system', 'default', 'kube-public']);
  t.deepEqual([config.audit.logMaxAge, config.audit.logMaxBackup, config.audit.logMaxSize], [30, 10, 100]);
  t.is(config.terminatedPodGcThreshold, 10);
  t.false(config.rancherManaged);
  t.deepEqual(config.disable, []);
  // The guide's tab enables EventRateLimit: on by default with server-wide limits; false switches it off.
  t.deepEqual(config.eventRateLimit, { limits: [{ type: 'Server', qps: 5000, burst: 20000 }] });
  t.is(parseConfig('eventRateLimit: false\n', FILE).eventRateLimit, false);
  t.deepEqual(problems('eventRateLimit: true\n'), ['eventRateLimit: expected a mapping, got boolean true']);
  t.deepEqual(
    [config.admission.alwaysPullImages, config.admission.denyServiceExternalIPs, config.kubelet.tlsCipherSuites, config.kubelet.podMaxPids],
    [false, false, true, undefined],
  );
  t.is(config.benchmark, undefined);
  t.is(config.k3sVersion, undefined);
});

test('audit retention below the benchmark minimum is refused, naming the check', (t) => {
  t.deepEqual(problems('audit:\n  logMaxAge: 7\n  logMaxBackup: 3\n  logMaxSize: 10\n'), [
    "audit.logMaxAge: expected an integer of at least 30 (kube-bench's minimum for --audit-log-maxage), got 7",
    "audit.logMaxBackup: expected an integer of at least 10 (kube-bench's minimum for --audit-log-maxbackup), got 3",
    "audit.logMaxSize: expected an integer of at least 100 (kube-bench's minimum for --audit-log-maxsize), got 10",
  ]);
});

test('namespaces must be DNS labels; disable takes K3s component names; did-you-mean for the new keys', (t) => {
  t.regex(problems('networkPolicy:\n  namespaces: [Kube_System]\n')[0]!, /^networkPolicy\.namespaces\[0\]: expected a namespace name \(RFC 1123 label/);
  t.regex(problems('podSecurity:\n  exemptNamespaces: [a, a]\n')[0]!, /"a" is listed twice/);
  t.regex(problems('disable: [traefic]\n')[0]!, /^disable\[0\]: expected one of coredns, servicelb, traefik/);
  t.regex(problems('rancherManged: true\n')[0]!, /did you mean "rancherManaged"/);
  t.regex(problems('networkPolicy:\n  namespace: [a]\n')[0]!, /did you mean "namespaces"/);
  t.regex(problems('terminatedPodGcThreshold: 0\n')[0]!, /at least 1/);
  t.regex(problems('k3sVersion: v1.19.1\n')[0]!, /older than v1\.21/);
});

test('extra kernel parameters may not weaken the six, and must be one-line values under sysctl keys', (t) => {
  t.deepEqual(problems('sysctl:\n  kernel.panic: 0\n'), [
    'sysctl."kernel.panic": the kubelet requires kernel.panic=10 under --protect-kernel-defaults; 0 would stop it from starting',
  ]);
  t.deepEqual(problems('sysctl:\n  vm/overcommit_memory: "2"\n'), [
    'sysctl."vm/overcommit_memory": the kubelet requires vm.overcommit_memory=1 under --protect-kernel-defaults; "2" would stop it from starting',
  ]);
  t.deepEqual(problems('sysctl:\n  "kernel.*": 1\n'), ['sysctl."kernel.*": expected a key that is a sysctl key such as net.ipv4.ip_forward (no globs)']);
  t.deepEqual(problems('sysctl:\n  net.ipv4.ip_forward: [1]\n'), ['sysctl."net.ipv4.ip_forward": expected an integer or a one-line value, got a list']);
  t.deepEqual(problems('sysctl:\n  net.ipv4.ip_forward: "1\\nkernel.panic=0"\n'), [
    'sysctl."net.ipv4.ip_forward": expected an integer or a one-line value, got "1\\nkernel.panic=0"',
  ]);
  t.is(parseConfig('sysctl:\n  kernel.panic: 10\n', FILE).sysctl['kernel.panic'], '10');
});

test('metrics and watch: defaults, valid values, and errors that name the key', (t) => {
  const defaults = parseConfig('', FILE);
  t.deepEqual(defaults.watch, { enabled: false, interval: 60, remediate: false });
  t.is(defaults.metrics.textfilePath, undefined);
  const set = parseConfig(
    'metrics:\n  textfilePath: /var/lib/node_exporter/textfile_collector/k3s_hostprep.prom\nwatch:\n  enabled: true\n  interval: 5\n  remediate: true\n',
    FILE,
  );
  t.is(set.metrics.textfilePath, '/var/lib/node_exporter/textfile_collector/k3s_hostprep.prom');
  t.deepEqual(set.watch, { enabled: true, interval: 5, remediate: true });
  t.regex(
    problems('metrics:\n  textfilePath: /etc/passwd.prom\n')[0]!,
    /^metrics\.textfilePath: expected an absolute file path below \/var\/lib\/node_exporter or /,
  );
  t.regex(problems('metrics:\n  textfilePath: /var/lib/node_exporter/../../etc/x.prom\n')[0]!, /expected a normalised path/);
  t.regex(problems('metrics:\n  textfilePath: /var/lib/node_exporter/k3s.txt\n')[0]!, /^metrics\.textfilePath: expected a file name ending in \.prom/);
  t.regex(problems('metrics:\n  textfilePath: /var/lib/node_exporter/.hidden.prom\n')[0]!, /ending in \.prom/);
  t.regex(problems('watch:\n  interval: 0\n')[0]!, /^watch\.interval: expected an integer of at least 1 \(seconds between verification cycles\), got 0/);
  t.regex(problems('watch:\n  remediat: true\n')[0]!, /^watch\.remediat: unknown key \(did you mean "remediate"\?\)/);
  t.regex(problems('watch:\n  enabled: yes\n')[0]!, /^watch\.enabled: expected true or false/);
});
