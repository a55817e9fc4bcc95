/**
 * policy.yaml parsed back and every object checked against the Kubernetes schema of its kind
 * (kubernetes-models), not against a stored copy of the text.
 */
import test from 'ava';
import { parseAllDocuments, stringify } from 'yaml';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodSecurityPolicy } from 'kubernetes-models/policy/v1beta1/PodSecurityPolicy';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { defaultConfig, parseConfig } from '../../src/config/load.js';
import type { K3sComponent } from '../../src/k3s/components.js';
import { policyObjects, renderPolicy } from '../../src/k3s/policy.js';
import { version as v } from '../helpers/version.js';

const none = new Set<K3sComponent>();

// biome-ignore lint/suspicious/noExplicitAny: any Kubernetes object, handed to its model to validate
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };

function objects(text: string): Obj[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error('not a document stream');
  for (const d of docs) if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
  return docs.map((d) => d.toJS() as Obj);
}

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own object type
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'policy/v1beta1 PodSecurityPolicy': PodSecurityPolicy,
  'rbac.authorization.k8s.io/v1 ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1 RoleBinding': RoleBinding,
};

/** Validates against the kind's schema; returns the count validated. */
function validateAll(t: { fail(m: string): void; notThrows(f: () => void, m?: string): void }, list: Obj[]): number {
  for (const o of list) {
    const Model = MODELS[`${o.apiVersion} ${o.kind}`];
    if (!Model) {
      t.fail(`no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    t.notThrows(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`);
  }
  return list.length;
}

test('the schema check itself rejects a broken object', (t) => {
  t.throws(() =>
    new NetworkPolicy({ metadata: { name: 'x' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 53, protocol: 17 as never }] }] } }).validate(),
  );
  t.throws(() => new PodSecurityPolicy({ metadata: { name: 'x' }, spec: { seLinux: { rule: 'RunAsAny' } } as never }).validate());
});

test('v1.24: PodSecurityPolicies, their RBAC and the network policies, all valid for their kinds', (t) => {
  const list = objects(renderPolicy(defaultConfig(), v('v1.24.17+k3s1'), none));
  t.is(validateAll(t, list), list.length);
  const psps = list.filter((o) => o.kind === 'PodSecurityPolicy');
  t.deepEqual(
    psps.map((o) => o.metadata.name),
    ['restricted-psp', 'system-unrestricted-psp', 'svclb-psp'],
  );
  const restricted = psps[0]!.spec;
  t.false(restricted.privileged);
  t.false(restricted.allowPrivilegeEscalation);
  t.deepEqual(restricted.requiredDropCapabilities, ['ALL']);
  t.is(restricted.runAsUser.rule, 'MustRunAsNonRoot');
  t.deepEqual(
    list.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name),
    [
      'psp:restricted-psp',
      'psp:system-unrestricted-psp',
      'psp:svclb-psp',
      'psp:svc-local-path-provisioner-psp',
      'psp:svc-coredns-psp',
      'psp:svc-cis-operator-psp',
    ],
  );
  const bindings = list.filter((o) => o.kind.endsWith('Binding'));
  t.is(bindings.length, 7);
  // Every binding points at a role that is in the file; every ServiceAccount subject names its namespace.
  const roles = new Set(list.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name));
  for (const b of bindings) {
    t.true(roles.has(b.roleRef.name), b.metadata.name);
    for (const s of b.subjects) if (s.kind === 'ServiceAccount') t.is(s.namespace, b.metadata.namespace, b.metadata.name);
  }
  const rb = bindings.find((b) => b.metadata.name === 'default:restricted-psp')!;
  t.deepEqual(rb.subjects, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' }]);
});

test('v1.25 and newer: no policy/v1beta1 object at all', (t) => {
  for (const version of ['v1.25.0+k3s1', 'v1.28.5+k3s1', 'v1.33']) {
    const list = objects(renderPolicy(defaultConfig(), v(version), none));
    t.is(validateAll(t, list), list.length);
    t.false(
      list.some((o) => o.apiVersion.startsWith('policy/')),
      version,
    );
    t.true(
      list.every((o) => o.kind === 'NetworkPolicy'),
      version,
    );
  }
});

test('intra-namespace policies select by kubernetes.io/metadata.name, one per configured namespace', (t) => {
  const config = parseConfig('networkPolicy:\n  namespaces: [kube-system, apps, monitoring]\n', 'c.yaml');
  const list = objects(renderPolicy(config, v('v1.28'), none)).filter((o) => o.metadata.name === 'intra-namespace');
  t.deepEqual(
    list.map((o) => o.metadata.namespace),
    ['kube-system', 'apps', 'monitoring'],
  );
  for (const o of list) {
    t.deepEqual(o.spec.podSelector, {});
    t.deepEqual(o.spec.ingress, [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.metadata.namespace } } }] }]);
  }
});

test('the DNS policy is in kube-system, TCP and UDP 53 to kube-dns, no placeholder', (t) => {
  const text = renderPolicy(defaultConfig(), v('v1.28'), none);
  t.false(text.includes('<NAMESPACE>'));
  const dns = objects(text).find((o) => o.metadata.name === 'default-network-dns-policy')!;
  t.is(dns.metadata.namespace, 'kube-system');
  t.deepEqual(dns.spec.podSelector, { matchLabels: { 'k8s-app': 'kube-dns' } });
  t.deepEqual(dns.spec.ingress, [
    {
      ports: [
        { port: 53, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ],
    },
  ]);
});

test('metrics-server and Traefik allows are left out when those components are disabled', (t) => {
  const names = (disabled: K3sComponent[]) =>
    objects(renderPolicy(defaultConfig(), v('v1.28'), new Set(disabled)))
      .map((o) => o.metadata.name)
      .filter((n) => n.startsWith('allow-all'));
  t.deepEqual(names([]), ['allow-all-metrics-server', 'allow-all-svclbtraefik-ingress', 'allow-all-traefik-v121-ingress']);
  t.deepEqual(names(['traefik']), ['allow-all-metrics-server']);
  t.deepEqual(names(['metrics-server', 'servicelb']), ['allow-all-svclbtraefik-ingress', 'allow-all-traefik-v121-ingress']);
  t.deepEqual(names(['traefik', 'metrics-server']), []);
  const traefik = objects(renderPolicy(defaultConfig(), v('v1.28'), none)).find((o) => o.metadata.name === 'allow-all-svclbtraefik-ingress')!;
  t.deepEqual(traefik.spec.podSelector.matchLabels, { 'svccontroller.k3s.cattle.io/svcname': 'traefik' });
  t.deepEqual(traefik.spec.ingress, [{}]);
});

// Files written by earlier releases stay current; only on v1.24 and older, where yaml's stringify
// wrote the PodSecurityPolicies' shared `ranges` as an anchor and alias, is the list now written out.
test("the text is what yaml's stringify writes for the same objects, aliases written out", (t) => {
  const config = parseConfig('networkPolicy:\n  namespaces: [kube-system, apps, monitoring]\n', 'c.yaml');
  for (const version of ['v1.21.14+k3s1', 'v1.24.17+k3s1', 'v1.25.0+k3s1', 'v1.33']) {
    for (const disabled of [none, new Set<K3sComponent>(['traefik', 'metrics-server'])]) {
      for (const c of [defaultConfig(), config]) {
        const text = renderPolicy(c, v(version), disabled);
        const body = policyObjects(c, v(version), disabled)
          .map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
          .join('');
        t.true(text.endsWith(`\n${body}`), version);
        t.is(text.split('\n---\n').length, policyObjects(c, v(version), disabled).length + 1);
      }
    }
  }
});
