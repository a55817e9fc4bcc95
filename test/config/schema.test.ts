import test from 'ava';
import { type AuditPolicy, type Config, type EventRateLimitLimit, configProblems, configSpec, toConfig } from '../../src/config/schema.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { AUDIT_MINIMUMS } from '../../src/k3s/audit-retention.js';

/** Compile-time equality: the build fails when the inferred type drifts from what callers rely on. */
type Eq<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const inferred: Array<true> = [
  true as Eq<Config['role'], 'server' | 'agent' | undefined>,
  true as Eq<Config['audit']['logMaxAge'], number>,
  true as Eq<Config['sysctl'], Record<string, string>>,
  true as Eq<Config['disable'], ('coredns' | 'servicelb' | 'traefik' | 'local-storage' | 'metrics-server' | 'runtimes')[]>,
  true as Eq<AuditPolicy['rules'][number]['level'], 'None' | 'Metadata' | 'Request' | 'RequestResponse'>,
  true as Eq<AuditPolicy['apiVersion'], 'audit.k8s.io/v1'>,
  true as Eq<EventRateLimitLimit['cacheSize'], number | undefined>,
  true as Eq<Config['eventRateLimit'], { limits: EventRateLimitLimit[] } | false>,
  true as Eq<Config['kubelet'], { tlsCipherSuites: boolean; podMaxPids?: number }>,
  true as Eq<Config['benchmark'], 'k3s-cis-1.23' | 'k3s-cis-1.24' | 'k3s-cis-1.7' | 'k3s-cis-1.8' | 'k3s-cis-1.9' | undefined>,
  true as Eq<Config['metrics']['textfilePath'], string | undefined>,
  true as Eq<Config['networkPolicy']['namespaces'], string[]>,
  true as Eq<Config['watch'], { enabled: boolean; interval: number; remediate: boolean }>,
  true as Eq<Config['k3sVersion'], string | undefined>,
];

test('the defaults are the ones the spec declares, written once', (t) => {
  t.is(inferred.length, 14);
  const config = defaultConfig();
  t.deepEqual(config, {
    source: '(defaults)',
    sysctl: {},
    audit: { policy: { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] }, ...AUDIT_MINIMUMS },
    rancherManaged: false,
    disable: [],
    networkPolicy: { namespaces: ['kube-system', 'default', 'kube-public'] },
    podSecurity: { exemptNamespaces: [] },
    // The guide's tab enables EventRateLimit: on by default, with its configuration.
    eventRateLimit: { limits: [{ type: 'Server', qps: 5000, burst: 20000 }] },
    terminatedPodGcThreshold: 10,
    admission: { alwaysPullImages: false, denyServiceExternalIPs: false },
    kubelet: { tlsCipherSuites: true },
    metrics: {},
    watch: { enabled: false, interval: 60, remediate: false },
  });
});

test('a default is copied, never shared between configurations or with the spec', (t) => {
  const a = defaultConfig();
  a.networkPolicy.namespaces.push('mine');
  a.audit.policy.rules.push({ level: 'None' });
  const b = defaultConfig();
  t.deepEqual(b.networkPolicy.namespaces, ['kube-system', 'default', 'kube-public']);
  t.is(b.audit.policy.rules.length, 1);
  t.is(configSpec.fields.audit.fields.policy.default.rules.length, 1);
});

test('the audit minimums are the validation bounds and the defaults', (t) => {
  for (const [key, min] of Object.entries(AUDIT_MINIMUMS)) {
    t.deepEqual(configProblems({ audit: { [key]: min } }), [], key);
    t.is(configProblems({ audit: { [key]: min - 1 } }).length, 1, key);
  }
});

test('required keys are reported by name, and sysctl entries are normalised as kept', (t) => {
  t.deepEqual(configProblems({ audit: { policy: { apiVersion: 'audit.k8s.io/v1', kind: 'Policy' } } }), ['audit.policy.rules: required key is missing']);
  t.deepEqual(configProblems({ eventRateLimit: { limits: [{ type: 'Server' }] } }), [
    'eventRateLimit.limits[0].qps: required key is missing',
    'eventRateLimit.limits[0].burst: required key is missing',
  ]);
  t.deepEqual(toConfig({ sysctl: { 'net/ipv4/ip_forward': 1, 'vm.swappiness': ' 10 ' } }, 'x').sysctl, { 'net.ipv4.ip_forward': '1', 'vm.swappiness': '10' });
});
