import { HostError, describeError } from '../errors.js';
import { NodeHost } from '../host/node-host.js';
import * as path from 'node:path';
import { runProgram } from '../host/exec.js';
import { K3S_KUBECONFIG, chooseKubectl, kubeconfigArgs, renderServiceAccountsReport, secureServiceAccounts } from '../kube/service-accounts.js';
import { command } from './command.js';
import { JSON_REPORT, KUBECONFIG, TIMEOUT, withHelp } from './options.js';

export const serviceAccounts = command({
  name: 'service-accounts',
  summary: 'CIS 5.1.5, once K3s is up: default service accounts mount no API token',
  description: `CIS 5.1.5, once K3s is up: sets automountServiceAccountToken: false on the default ServiceAccount of every
namespace, through "k3s kubectl" (or kubectl), and reports what it changed. Waits for the API with a
bounded retry (default 300 seconds) and exits 3 when it never answers. Run by
k3s-hostprep-service-accounts.timer so that namespaces created later are covered. As root, it also
tightens the certificates K3s wrote under server/tls to 0600 (1.1.20). k3s and kubectl are taken from the
system directories only, and K3s' kubeconfig is named explicitly: PATH and KUBECONFIG play no part.`,
  options: { timeout: TIMEOUT, kubeconfig: KUBECONFIG, json: withHelp(JSON_REPORT, 'print the result as JSON') },
  async run({ values }, io) {
    const kubectl = chooseKubectl();
    if (kubectl === null) throw new HostError('service-accounts: neither k3s nor kubectl was found as a root-owned executable in the system directories');
    const [bin, ...prefix] = kubectl;
    const host = new NodeHost('/');
    const kubeconfig = kubeconfigArgs(values.kubeconfig === undefined ? K3S_KUBECONFIG : path.resolve(values.kubeconfig), (f) => host.untrusted(f));
    const report = await secureServiceAccounts((args) => runProgram(bin!, [...prefix, ...kubeconfig, ...args], { timeoutMs: 60_000 }), kubectl.join(' '), {
      timeoutMs: (values.timeout ?? 300) * 1000,
    });
    // After K3s is up is also when it has created server/tls/*.crt with mode 0644 (kube-bench
    // 1.1.20 in k3s-cis-1.9): this timer-driven run tightens them, as apply does at every boot.
    if (host.euid === 0) {
      const { certChanges } = await import('../controls/benchmark.js');
      for (const change of certChanges(host)) {
        if (change.kind !== 'chmod') continue;
        try {
          host.chmod(change.path, change.to);
        } catch (error) {
          io.err.write(`k3s-hostprep: service-accounts: chmod ${change.path}: ${describeError(error)}\n`);
        }
      }
    }
    io.out.write(values.json ? JSON.stringify(report, null, 2) + '\n' : renderServiceAccountsReport(report));
    if (report.exitCode !== 0) io.err.write(`k3s-hostprep: service-accounts: ${report.errors[0]}\n`);
    return report.exitCode;
  },
});
