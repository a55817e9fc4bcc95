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

export async function observe(host: Host): Promise<Observed | undefined> {
  if (!host.live) return undefined;
  if (!k3sRanSinceBoot(host)) {
    return { active: false, journal: {}, managedEtcd: false, cluster: null, clusterWhy: 'K3s has not run since boot (no /run/k3s, no systemd invocation of k3s.service or k3s-agent.service)' };
  }
  const active = await host.run('systemctl', ['is-active', '--quiet', ...UNITS], { timeoutMs: 5_000 }).then((r) => r.exitCode === 0, () => false);
  const journal: Record<string, string[]> = {};
  let managedEtcd = false;
  for (const unit of ['k3s', 'k3s-agent']) {
    const r = await host.run('journalctl', ['-m', '-u', unit, '-o', 'cat', '--no-pager', '--grep', 'Running (kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy) |Managed etcd cluster'], { timeoutMs: 20_000 }).catch(() => null);
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
      .run('k3s', ['kubectl', '--kubeconfig', KUBECONFIG, '--request-timeout=5s', 'get', 'serviceaccounts', '--all-namespaces', '--field-selector', 'metadata.name=default', '-o', 'custom-columns=N:.metadata.namespace,SA:.metadata.name,ASA:.automountServiceAccountToken', '--no-headers'], { timeoutMs: 15_000 })
      .catch((error: unknown) => ({ exitCode: -1, stdout: '', stderr: String(error), command: 'k3s kubectl' }));
    if (r.exitCode === 0) cluster = { serviceaccounts: serviceAccountLines(r.stdout) };
    else clusterWhy = `the API did not answer through ${KUBECONFIG} (${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`})`;
  }
  return { active, journal, managedEtcd, cluster, clusterWhy };
}
