import test from 'ava';
import { parse, stringify } from 'yaml';
import { defaultConfig, parseConfig } from '../../src/config/load.js';
import { admissionConfiguration, renderPsa } from '../../src/k3s/psa.js';
import { validateAdmissionConfiguration } from '../helpers/admission.js';
import { version as v } from '../helpers/version.js';

const ERL = 'eventRateLimit:\n  limits:\n    - {type: Server, qps: 5000, burst: 20000}\n    - {type: Namespace, qps: 500, burst: 1000, cacheSize: 2000}\n';

test("v1.25+: PodSecurity enforces, audits and warns at restricted, latest, exempting kube-system and the config's namespaces", (t) => {
  const config = parseConfig('podSecurity:\n  exemptNamespaces: [cis-operator-system, kube-system]\n', 'c.yaml');
  const doc = parse(renderPsa(config, v('v1.28.5+k3s1')));
  t.deepEqual(validateAdmissionConfiguration(doc), []);
  t.is(doc.apiVersion, 'apiserver.config.k8s.io/v1');
  t.is(doc.kind, 'AdmissionConfiguration');
  // The guide's tab enables EventRateLimit, so its configuration is there by default.
  t.deepEqual(
    doc.plugins.map((p: { name: string }) => p.name),
    ['PodSecurity', 'EventRateLimit'],
  );
  const c = doc.plugins[0].configuration;
  t.is(c.apiVersion, 'pod-security.admission.config.k8s.io/v1');
  t.deepEqual(c.defaults, {
    enforce: 'restricted',
    'enforce-version': 'latest',
    audit: 'restricted',
    'audit-version': 'latest',
    warn: 'restricted',
    'warn-version': 'latest',
  });
  t.deepEqual(c.exemptions.namespaces, ['kube-system', 'cis-operator-system']);
});

test('EventRateLimit, when enabled, has its configuration in the same file', (t) => {
  const doc = parse(renderPsa(parseConfig(ERL, 'c.yaml'), v('v1.26')));
  t.deepEqual(validateAdmissionConfiguration(doc), []);
  t.deepEqual(
    doc.plugins.map((p: { name: string }) => p.name),
    ['PodSecurity', 'EventRateLimit'],
  );
  t.deepEqual(doc.plugins[1].configuration, {
    apiVersion: 'eventratelimit.admission.k8s.io/v1alpha1',
    kind: 'Configuration',
    limits: [
      { type: 'Server', qps: 5000, burst: 20000 },
      { type: 'Namespace', qps: 500, burst: 1000, cacheSize: 2000 },
    ],
  });
  // v1.24 with EventRateLimit: only its configuration.
  const old = parse(renderPsa(parseConfig(ERL, 'c.yaml'), v('v1.24.17')));
  t.deepEqual(
    old.plugins.map((p: { name: string }) => p.name),
    ['EventRateLimit'],
  );
  t.deepEqual(validateAdmissionConfiguration(old), []);
  t.deepEqual(
    parse(renderPsa(defaultConfig(), v('v1.28'))).plugins[1].configuration.limits,
    [{ type: 'Server', qps: 5000, burst: 20000 }],
    'the default limits',
  );
  t.deepEqual(
    parse(renderPsa(parseConfig('eventRateLimit: false\n', 'c.yaml'), v('v1.28'))).plugins.map((p: { name: string }) => p.name),
    ['PodSecurity'],
    'switched off',
  );
});

test('the validator rejects what the API server would refuse', (t) => {
  const base = parse(renderPsa(parseConfig(ERL, 'c.yaml'), v('v1.28')));
  const broken = structuredClone(base);
  broken.plugins[1].configuration.limits = [];
  t.deepEqual(validateAdmissionConfiguration(broken), ['plugins[1].configuration.limits: must not be empty (the API server refuses to start)']);
  const level = structuredClone(base);
  level.plugins[0].configuration.defaults.enforce = 'strict';
  level.plugins[0].configuration.defaults['warn-version'] = '1.25';
  t.deepEqual(validateAdmissionConfiguration(level), [
    'plugins[0].configuration.defaults.enforce: expected one of privileged, baseline, restricted',
    'plugins[0].configuration.defaults.warn-version: expected latest or v1.N',
  ]);
  const extra = structuredClone(base);
  extra.plugins[1].configuration.limits[0].qps = 0;
  extra.plugins[0].configuration.exemption = {};
  extra.kind = 'Configuration';
  t.deepEqual(validateAdmissionConfiguration(extra), [
    'kind: expected AdmissionConfiguration, got Configuration',
    'plugins[0].configuration.exemption: unknown field',
    'plugins[1].configuration.limits[0].qps: expected a positive integer',
  ]);
});

test('the config refuses an EventRateLimit without limits or with non-positive rates', (t) => {
  t.throws(() => parseConfig('eventRateLimit: {limits: []}\n', 'c.yaml'), { message: /eventRateLimit\.limits: expected at least 1 item/ });
  t.throws(() => parseConfig('eventRateLimit: {}\n', 'c.yaml'), { message: /eventRateLimit\.limits: required key is missing/ });
  t.throws(() => parseConfig('eventRateLimit: {limits: [{type: Server, qps: 0, burst: 1}]}\n', 'c.yaml'), {
    message: /qps: expected an integer of at least 1/,
  });
  t.throws(() => parseConfig('eventRateLimit: {limits: [{type: Pod, qps: 1, burst: 1}]}\n', 'c.yaml'), {
    message: /type: expected one of Server, Namespace, User, SourceAndObject/,
  });
});

test("the text is what yaml's stringify writes for the same configuration: psa.yaml files written before stay current", (t) => {
  const configs = [defaultConfig(), parseConfig(ERL, 'c.yaml'), parseConfig('podSecurity:\n  exemptNamespaces: [cis-operator-system, apps]\n', 'c.yaml')];
  for (const version of ['v1.24.17', 'v1.25.0', 'v1.33']) {
    for (const config of configs) {
      const text = renderPsa(config, v(version));
      t.is(text.slice(text.indexOf('\n') + 1), stringify(admissionConfiguration(config, v(version)), { lineWidth: 0 }), version);
    }
  }
});
