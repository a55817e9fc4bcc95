import test from 'ava';
import * as fs from 'node:fs';
import { parse, stringify } from 'yaml';
import { auditPolicy, renderAuditPolicy } from '../../src/controls/audit-policy.js';
import { parseConfig } from '../../src/config/load.js';
import { auditPolicySpec } from '../../src/config/schema.js';

const DEFAULT_AUDIT_POLICY = auditPolicySpec.default;
import { TestHost, context } from '../helpers/test-host.js';
import { COMPLIANT } from '../helpers/sandbox.js';

test("the default policy is the guide's starter policy and parses back", (t) => {
  t.deepEqual(parse(renderAuditPolicy(DEFAULT_AUDIT_POLICY)), { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] });
});

test('audit.yaml is written 0600 and a policy from the config replaces the default', async (t) => {
  const host = new TestHost(COMPLIANT);
  const config = parseConfig('audit:\n  policy:\n    apiVersion: audit.k8s.io/v1\n    kind: Policy\n    rules: [{level: RequestResponse}]\n', 'c.yaml');
  const ctx = context(host, { config });
  await auditPolicy.apply(ctx, auditPolicy.plan(ctx));
  const file = host.file('/var/lib/rancher/k3s/server/audit.yaml');
  t.is(fs.statSync(file).mode & 0o7777, 0o600);
  t.is(fs.statSync(host.file('/var/lib/rancher/k3s/server')).mode & 0o7777, 0o700);
  t.deepEqual(parse(fs.readFileSync(file, 'utf8')).rules, [{ level: 'RequestResponse' }]);
  t.true(auditPolicy.verify(ctx).every((f) => f.status === 'pass'));
  // Back to the default: the file is ours, so it is replaced without --force.
  const back = context(host);
  t.is(auditPolicy.verify(back)[0]!.status, 'fail');
  t.regex(auditPolicy.verify(back)[0]!.reason, /older rendering/);
  await auditPolicy.apply(back, auditPolicy.plan(back));
  t.deepEqual(parse(fs.readFileSync(file, 'utf8')).rules, [{ level: 'Metadata' }]);
});

test('a hand-edited audit.yaml is reported as edited and kept', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/var/lib/rancher/k3s/server/audit.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\n', 0o600);
  const plan = auditPolicy.plan(context(host));
  t.deepEqual(plan.changes, []);
  t.regex(plan.blocked[0]!.reason, /not written by k3s-hostprep/);
});

test("the policy text is what yaml's stringify writes, for the default and a custom policy: files written before stay current", (t) => {
  const custom = parseConfig(
    [
      'audit:',
      '  policy:',
      '    apiVersion: audit.k8s.io/v1',
      '    kind: Policy',
      '    omitStages: [RequestReceived]',
      '    rules:',
      '      - level: None',
      '        userGroups: ["system:nodes"]',
      '        nonResourceURLs: ["/healthz*", "/version"]',
      '      - level: RequestResponse',
      '        resources: [{group: "", resources: [secrets, configmaps]}]',
      '        namespaces: [kube-system]',
      '      - level: Metadata',
      '',
    ].join('\n'),
    'c.yaml',
  ).audit.policy;
  for (const policy of [DEFAULT_AUDIT_POLICY, custom]) {
    const text = renderAuditPolicy(policy);
    t.is(text, `# API server audit policy (CIS 3.2.1), used through --audit-policy-file.\n${stringify(policy, { lineWidth: 0 })}`);
    t.deepEqual(parse(text), policy);
  }
  t.deepEqual(custom.rules[1], { level: 'RequestResponse', resources: [{ group: '', resources: ['secrets', 'configmaps'] }], namespaces: ['kube-system'] });
});
