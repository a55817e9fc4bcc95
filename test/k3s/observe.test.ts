/**
 * The cluster checks' audit outputs, made from kubectl's answers as kube-bench's own audits print
 * them (k3s-cis-1.9 5.1.1, 5.1.3, 5.1.6), then judged by the benchmark's rows.
 */
import test from 'ava';
import { benchmark } from '../../src/controls/benchmark.js';
import { clusterAdminLines, k3sRanSinceBoot, observe, podTokenLines, wildcardLines } from '../../src/k3s/observe.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

const list = (items: unknown[]) => JSON.stringify({ items });

test('wildcard roles and token-mounting pods are not compliant, as kube-bench prints them', (t) => {
  const roles = list([
    { metadata: { name: 'ok', namespace: 'a' }, rules: [{ verbs: ['get'] }] },
    { metadata: { name: 'wild', namespace: 'a' }, rules: [{ verbs: ['*'], resources: ['*'] }] },
  ]);
  const clusterRoles = list([
    { metadata: { name: 'cluster-admin' }, rules: [{ verbs: ['*'] }] },
    { metadata: { name: 'mine' }, rules: [{ verbs: ['*'] }] },
  ]);
  t.deepEqual(
    wildcardLines(roles, clusterRoles)
      .split('\n')
      .map((l) => / is_compliant: (\w+)$/.exec(l)![1]),
    ['true', 'false', 'true', 'false'],
  );
  const pods = list([
    { metadata: { name: 'p1', namespace: 'a' }, spec: { serviceAccount: 'default' } },
    { metadata: { name: 'p2', namespace: 'a' }, spec: { serviceAccount: 'app', automountServiceAccountToken: false } },
    { metadata: { name: 'p3', namespace: 'a' }, spec: { serviceAccount: 'default' } },
  ]);
  const sas = (auto: boolean | undefined) =>
    list([
      { metadata: { name: 'default', namespace: 'a' }, ...(auto === undefined ? {} : { automountServiceAccountToken: auto }) },
      { metadata: { name: 'app', namespace: 'a' }, automountServiceAccountToken: true },
    ]);
  t.deepEqual(
    podTokenLines(pods, sas(undefined))
      .split('\n')
      .map((l) => / is_compliant: (\w+)$/.exec(l)![1]),
    ['false', 'true', 'false'],
  );
  t.deepEqual(
    podTokenLines(pods, sas(false))
      .split('\n')
      .map((l) => / is_compliant: (\w+)$/.exec(l)![1]),
    ['true', 'true', 'true'],
  );
  t.is(clusterAdminLines('cluster-admin   cluster-admin   system:masters\nview   x   y\n'), 'cluster-admin   cluster-admin   system:masters');
});

test('the rows judge them: a wildcard role fails 5.1.3, a pod mounting a token fails 5.1.6', (t) => {
  const ctx = context(new TestHost(COMPLIANT), { k3s: 'v1.28.5+k3s1' });
  ctx.observed = {
    active: false,
    managedEtcd: false,
    clusterWhy: '',
    journal: {},
    cluster: {
      serviceaccounts: '**namespace: default service_account: default automountServiceAccountToken: false is_compliant: true',
      clusterrolebindings: 'cluster-admin   cluster-admin   system:masters',
      roles: wildcardLines(list([{ metadata: { name: 'wild', namespace: 'a' }, rules: [{ verbs: ['*'] }] }]), list([])),
      pods: podTokenLines(
        list([{ metadata: { name: 'p', namespace: 'a' }, spec: { serviceAccount: 'default' } }]),
        list([{ metadata: { name: 'default', namespace: 'a' } }]),
      ),
    },
  };
  const by = (id: string) => benchmark.verify(ctx).find((f) => f.cis === id)!;
  t.is(by('5.1.1').status, 'pass');
  t.is(by('5.1.3').status, 'fail');
  t.is(by('5.1.5').status, 'pass');
  t.is(by('5.1.6').status, 'fail');
});

test('without /run/k3s or a systemd invocation of K3s, observe starts nothing and says why', async (t) => {
  const host = new TestHost(COMPLIANT);
  let ran = 0;
  host.run = async () => {
    ran++;
    return { command: '', exitCode: 0, stdout: '', stderr: '' };
  };
  t.false(k3sRanSinceBoot(host));
  const o = (await observe(host))!;
  t.is(ran, 0);
  t.regex(o.clusterWhy, /K3s has not run since boot/);
  host.write('/run/k3s/containerd/containerd.sock', '');
  t.true(k3sRanSinceBoot(host));
  await observe(host);
  t.true(ran > 0, 'K3s ran since boot: systemctl and journalctl are asked');
});
