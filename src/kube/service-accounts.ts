/**
 * CIS 5.1.5: the default ServiceAccount of every namespace must not mount an API token into
 * pods that do not ask for one. After K3s is up, `service-accounts` waits for the API with a
 * bounded retry, lists the default service accounts of all namespaces and patches those that
 * still mount tokens to automountServiceAccountToken: false. Errors are gathered and reported
 * together; nothing is thrown for a failed call.
 */
import type { ProcessResult } from '../host/host.js';
import { findExecutable } from '../host/exec.js';
import { HostError } from '../errors.js';

/** Runs kubectl with these arguments (the prefix, "k3s kubectl" or "kubectl", is the runner's). */
export type Kubectl = (args: string[]) => Promise<ProcessResult>;

export interface WaitOptions {
  timeoutMs: number;
  /** For tests: how to wait, and what time it is. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface ServiceAccountsReport {
  command: 'service-accounts';
  kubectl: string;
  /** How long the API took to answer, or null when it never did. */
  apiReadyAfterMs: number | null;
  attempts: number;
  changed: string[];
  unchanged: string[];
  errors: string[];
  exitCode: 0 | 3;
}

/** K3s' own kubeconfig, written by the K3s server (root-owned, 0600 unless --write-kubeconfig-mode says otherwise). */
export const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';

/**
 * `k3s kubectl` when K3s is installed, else `kubectl`: both from the system directories only
 * (a directory first on PATH plays no part), as an absolute path and its leading arguments.
 */
export function chooseKubectl(find: (name: string) => string | null = findExecutable): string[] | null {
  const k3s = find('k3s');
  if (k3s !== null) return [k3s, 'kubectl'];
  const kubectl = find('kubectl');
  return kubectl === null ? null : [kubectl];
}

/**
 * The kubectl arguments that name the kubeconfig: always explicit, so KUBECONFIG from the
 * environment (a user-owned file with an exec plugin would run that plugin as root) is never
 * consulted. A file named with --kubeconfig must be one only root can change.
 */
export function kubeconfigArgs(file: string, untrusted: (file: string) => string | null): string[] {
  const why = untrusted(file);
  if (why !== null) throw new HostError(`service-accounts: the kubeconfig is not trusted: ${why}`);
  return ['--kubeconfig', file];
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/** Backoff between attempts: 1 s, 2 s, 4 s, 8 s, then every 10 s. */
export function backoff(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/** Asks /readyz until it answers ok or the time is up. */
export async function waitForApi(kubectl: Kubectl, options: WaitOptions): Promise<{ ready: boolean; attempts: number; elapsedMs: number; last: string }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const start = now();
  let attempts = 0;
  let last = '';
  for (;;) {
    attempts++;
    const result = await kubectl(['get', '--raw', '/readyz']);
    if (result.exitCode === 0) return { ready: true, attempts, elapsedMs: now() - start, last: '' };
    last = lastLine(result.stderr) || lastLine(result.stdout) || `exit code ${result.exitCode}`;
    const remaining = start + options.timeoutMs - now();
    if (remaining <= 0) return { ready: false, attempts, elapsedMs: now() - start, last };
    await sleep(Math.min(backoff(attempts), remaining));
  }
}

interface ServiceAccountItem {
  metadata?: { name?: string; namespace?: string };
  automountServiceAccountToken?: boolean;
}

/** The namespaces whose default ServiceAccount still mounts tokens, and those already done. Pure. */
export function sortAccounts(list: unknown): { todo: string[]; done: string[] } {
  const items = (list as { items?: ServiceAccountItem[] } | null)?.items;
  if (!Array.isArray(items)) throw new Error('expected a List with items');
  const todo: string[] = [];
  const done: string[] = [];
  for (const item of items) {
    const ns = item.metadata?.namespace;
    if (item.metadata?.name !== 'default' || !ns) continue;
    (item.automountServiceAccountToken === false ? done : todo).push(ns);
  }
  return { todo: todo.sort(), done: done.sort() };
}

export const PATCH = JSON.stringify({ automountServiceAccountToken: false });

export async function secureServiceAccounts(kubectl: Kubectl, name: string, options: WaitOptions): Promise<ServiceAccountsReport> {
  const report: ServiceAccountsReport = {
    command: 'service-accounts',
    kubectl: name,
    apiReadyAfterMs: null,
    attempts: 0,
    changed: [],
    unchanged: [],
    errors: [],
    exitCode: 0,
  };
  const wait = await waitForApi(kubectl, options);
  report.attempts = wait.attempts;
  if (!wait.ready) {
    report.errors.push(
      `the Kubernetes API did not answer within ${Math.round(options.timeoutMs / 1000)} s (${wait.attempts} attempts); last error: ${wait.last}`,
    );
    report.exitCode = 3;
    return report;
  }
  report.apiReadyAfterMs = wait.elapsedMs;

  const listed = await kubectl(['get', 'serviceaccounts', '--all-namespaces', '--field-selector', 'metadata.name=default', '--output', 'json']);
  if (listed.exitCode !== 0) {
    report.errors.push(`listing service accounts failed: ${lastLine(listed.stderr) || `exit code ${listed.exitCode}`}`);
    report.exitCode = 3;
    return report;
  }
  let sorted: { todo: string[]; done: string[] };
  try {
    sorted = sortAccounts(JSON.parse(listed.stdout));
  } catch (error) {
    report.errors.push(`kubectl returned no service account list: ${(error as Error).message}`);
    report.exitCode = 3;
    return report;
  }
  report.unchanged = sorted.done;
  for (const ns of sorted.todo) {
    const patched = await kubectl(['patch', 'serviceaccount', 'default', '--namespace', ns, '--type', 'merge', '--patch', PATCH]);
    if (patched.exitCode === 0) report.changed.push(ns);
    else report.errors.push(`namespace ${ns}: patch failed: ${lastLine(patched.stderr) || `exit code ${patched.exitCode}`}`);
  }
  if (report.errors.length > 0) report.exitCode = 3;
  return report;
}

export function renderServiceAccountsReport(report: ServiceAccountsReport): string {
  const out = [`k3s-hostprep service-accounts (CIS 5.1.5) through ${report.kubectl}`];
  if (report.apiReadyAfterMs !== null) out.push(`API ready after ${(report.apiReadyAfterMs / 1000).toFixed(1)} s (${report.attempts} attempt(s)).`);
  out.push(report.changed.length === 0 ? 'Changed: none.' : `Changed (automountServiceAccountToken: false on default): ${report.changed.join(', ')}`);
  if (report.unchanged.length > 0) out.push(`Already set: ${report.unchanged.join(', ')}`);
  for (const e of report.errors) out.push(`Error: ${e}`);
  out.push(report.exitCode === 0 ? 'Result: every default service account leaves API tokens unmounted.' : 'Result: HOST ERROR: see the errors above.');
  return out.join('\n') + '\n';
}
