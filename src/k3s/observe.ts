/**
 * What kube-bench would read on a live node besides files: whether K3s runs, the "Running
 * <component>" lines it logged (journalctl -m -u k3s -u k3s-agent, as kube-bench's audits read
 * them), whether it runs a managed etcd, and the default ServiceAccounts through
 * /etc/rancher/k3s/k3s.yaml when the API answers. Gathered once before verify; an offline root
 * (--root) gets none: its judgement comes from the files alone.
 *
 * The boot path starts no process: /run is a tmpfs emptied at every boot, and K3s creates
 * /run/k3s (its containerd's state) when it starts, as systemd creates
 * /run/systemd/units/invocation:<unit> when it starts the unit. Without either, K3s has not run
 * since boot: nothing K3s logged can be running now, and the API it serves does not answer, so
 * systemctl, journalctl and kubectl are not asked and the files alone decide.
 */
import type { Host } from '../host/host.js';
import type { Observed } from '../controls/benchmark.js';

const KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';

function serviceAccountLines(stdout: string): string {
  // kube-bench's 5.1.5 audit prints one line per default ServiceAccount with is_compliant.
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [namespace = '', sa = '', asa0 = ''] = l.trim().split(/\s+/);
      const asa = asa0 === '<none>' ? 'notset' : asa0;
      const compliant = namespace === 'kube-system' || asa === 'false';
      return `**namespace: ${namespace} service_account: ${sa} automountServiceAccountToken: ${asa} is_compliant: ${compliant}`;
    })
    .join('\n');
}

const UNITS = ['k3s.service', 'k3s-agent.service'];

/** Whether K3s may have run since boot: the cheap signals of it in /run. Reads two paths, starts nothing. */
export function k3sRanSinceBoot(host: Host): boolean {
  if (host.lstat('/run/k3s') !== null) return true;
  return UNITS.some((u) => host.lstat(`/run/systemd/units/invocation:${u}`) !== null);
}

interface Obj {
  metadata?: { name?: string; namespace?: string };
  rules?: unknown;
  spec?: { serviceAccount?: string; serviceAccountName?: string; automountServiceAccountToken?: boolean };
  automountServiceAccountToken?: boolean;
}

const items = (json: string): Obj[] => {
  const parsed = JSON.parse(json) as { items?: Obj[] };
  return Array.isArray(parsed.items) ? parsed.items : [];
};

/** kube-bench's 5.1.1 audit: the custom-columns lines of cluster role bindings that mention cluster-admin. */
export function clusterAdminLines(customColumns: string): string {
  return customColumns
    .split('\n')
    .filter((l) => l.includes('cluster-admin'))
    .join('\n');
}

const ROLE_WHITELIST = ['aqua-kube-enforcer'];
const CLUSTER_ROLE_WHITELIST = [
  'cluster-admin',
  'k3s-cloud-controller-manager',
  'local-path-provisioner-role',
  'system:kube-controller-manager',
  'system:kubelet-api-admin',
  'system:controller:namespace-controller',
  'system:controller:disruption-controller',
  'system:controller:generic-garbage-collector',
  'system:controller:horizontal-pod-autoscaler',
  'system:controller:resourcequota-controller',
  'aqua-kube-enforcer',
  'aqua-server-cluster-role',
];

/** kube-bench's 5.1.3 audit: a line per Role and ClusterRole, not compliant when a rule holds ["*"] (its jq -c | grep). */
export function wildcardLines(rolesJson: string, clusterRolesJson: string): string {
  const wild = (o: Obj) => JSON.stringify(o.rules ?? null).includes('["*"]');
  const roles = items(rolesJson).map((r) => {
    const name = r.metadata?.name ?? '';
    const compliant = ROLE_WHITELIST.includes(name) || !wild(r);
    return `**role_name: ${name}  role_namespace: ${r.metadata?.namespace ?? ''} is_compliant: ${compliant}`;
  });
  const clusterRoles = items(clusterRolesJson).map((r) => {
    const name = r.metadata?.name ?? '';
    const compliant = CLUSTER_ROLE_WHITELIST.includes(name) || !wild(r);
    return `**clusterrole_name: ${name} is_compliant: ${compliant}`;
  });
  return [...roles, ...clusterRoles].join('\n');
}

/** kube-bench's 5.1.6 audit: a line per pod, compliant when neither it nor its ServiceAccount mounts a token. */
export function podTokenLines(podsJson: string, serviceAccountsJson: string): string {
  const sa = new Map(items(serviceAccountsJson).map((a) => [`${a.metadata?.namespace}/${a.metadata?.name}`, a]));
  const notset = (v: boolean | undefined | null) => (v === undefined || v === null ? 'notset' : String(v));
  return items(podsJson)
    .map((p) => {
      const ns = p.metadata?.namespace ?? '';
      const account = p.spec?.serviceAccount ?? p.spec?.serviceAccountName ?? '';
      const found = sa.get(`${ns}/${account}`);
      const svacc = found ? notset(found.automountServiceAccountToken) : '';
      const pod = notset(p.spec?.automountServiceAccountToken);
      const compliant = (svacc === 'false' && (pod === 'false' || pod === 'notset')) || (svacc === 'true' && pod === 'false');
      return `**namespace: ${ns} pod_name: ${p.metadata?.name ?? ''} service_account: ${account} pod_is_automountserviceaccounttoken: ${pod} svacc_is_automountServiceAccountToken: ${svacc} is_compliant: ${compliant}`;
    })
    .join('\n');
}

export async function observe(host: Host): Promise<Observed | undefined> {
  if (!host.live) return undefined;
  if (!k3sRanSinceBoot(host)) {
    return {
      active: false,
      journal: {},
      managedEtcd: false,
      cluster: null,
      clusterWhy: 'K3s has not run since boot (no /run/k3s, no systemd invocation of k3s.service or k3s-agent.service)',
    };
  }
  const active = await host.run('systemctl', ['is-active', '--quiet', ...UNITS], { timeoutMs: 5_000 }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  const journal: Record<string, string[]> = {};
  let managedEtcd = false;
  for (const unit of ['k3s', 'k3s-agent']) {
    const r = await host
      .run(
        'journalctl',
        [
          '-m',
          '-u',
          unit,
          '-o',
          'cat',
          '--no-pager',
          '--grep',
          'Running (kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy) |Managed etcd cluster',
        ],
        { timeoutMs: 20_000 },
      )
      .catch(() => null);
    const lines = r && r.exitCode === 0 ? r.stdout.split('\n').filter((l) => l !== '') : [];
    if (lines.some((l) => l.includes('Managed etcd cluster'))) managedEtcd = true;
    journal[unit] = lines.filter((l) => !l.includes('Managed etcd cluster'));
  }
  let cluster: Record<string, string> | null = null;
  let clusterWhy = '';
  if (!active) clusterWhy = 'K3s is not running (systemctl is-active k3s.service k3s-agent.service)';
  else if (host.lstat(KUBECONFIG) === null) clusterWhy = `${KUBECONFIG} does not exist (an agent, or K3s has not started)`;
  else {
    const r = await host
      .run(
        'k3s',
        [
          'kubectl',
          '--kubeconfig',
          KUBECONFIG,
          '--request-timeout=5s',
          'get',
          'serviceaccounts',
          '--all-namespaces',
          '--field-selector',
          'metadata.name=default',
          '-o',
          'custom-columns=N:.metadata.namespace,SA:.metadata.name,ASA:.automountServiceAccountToken',
          '--no-headers',
        ],
        { timeoutMs: 15_000 },
      )
      .catch((error: unknown) => ({ exitCode: -1, stdout: '', stderr: String(error), command: 'k3s kubectl' }));
    if (r.exitCode === 0) {
      cluster = { serviceaccounts: serviceAccountLines(r.stdout) };
      // The API answers: the other cluster checks' objects, each left "not judged" when its query fails.
      const get = (args: string[]) =>
        host.run('k3s', ['kubectl', '--kubeconfig', KUBECONFIG, '--request-timeout=5s', 'get', ...args], { timeoutMs: 15_000 }).then(
          (x) => (x.exitCode === 0 ? x.stdout : null),
          () => null,
        );
      const bindings = await get(['clusterrolebindings', '-o=custom-columns=ROLE:.roleRef.name,NAME:.metadata.name,SUBJECT:.subjects[*].name', '--no-headers']);
      if (bindings !== null) cluster.clusterrolebindings = clusterAdminLines(bindings);
      const [roles, clusterRoles] = [await get(['roles', '--all-namespaces', '-o', 'json']), await get(['clusterroles', '-o', 'json'])];
      const [pods, accounts] = [await get(['pods', '--all-namespaces', '-o', 'json']), await get(['serviceaccounts', '--all-namespaces', '-o', 'json'])];
      try {
        if (roles !== null && clusterRoles !== null) cluster.roles = wildcardLines(roles, clusterRoles);
        if (pods !== null && accounts !== null) cluster.pods = podTokenLines(pods, accounts);
      } catch {
        // An answer that is not JSON leaves the check not judged, with the reason below.
      }
    } else clusterWhy = `the API did not answer through ${KUBECONFIG} (${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`})`;
  }
  return { active, journal, managedEtcd, cluster, clusterWhy };
}
