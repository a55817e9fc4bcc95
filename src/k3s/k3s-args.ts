/**
 * The command lines K3s gives its embedded components, and the "Running <component> ..." lines
 * it logs for them (what kube-bench reads), predicted from the K3s version and the merged
 * configuration. K3s (pkg/daemons/control/server.go, pkg/daemons/agent) starts from its own
 * defaults and merges the "*-arg" values with pkg/util/args.go GetArgs: the first plain
 * "name=value" drops the default, repeated names are all kept in order, "name+=" appends to the
 * default and "name-=" prepends; the result is sorted by name. Pure.
 */
import type { MergedConfig } from './config-files.js';
import type { Component } from './rows.js';
import { atLeast, type K3sVersion } from './version.js';

const TLS = '/var/lib/rancher/k3s/server/tls';
const CRED = '/var/lib/rancher/k3s/server/cred';
const AGENT = '/var/lib/rancher/k3s/agent';

/** K3s' default TLS cipher suites for the API server (pkg/cli/server/server.go). */
export const K3S_APISERVER_CIPHERS =
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305';

/** Where the datastore is: embedded etcd (cluster-init, or a server joining one), an external datastore, or SQLite through kine. */
export type Datastore = 'etcd' | 'external-etcd-tls' | 'external' | 'sqlite';

export function datastoreOf(merged: MergedConfig): Datastore {
  const last = (key: string) => merged.get(key)?.items.at(-1)?.value;
  const endpoint = last('datastore-endpoint');
  if (endpoint !== undefined && endpoint !== '') {
    if (/^https:\/\//.test(endpoint) || (/^(https?:\/\/)/.test(endpoint) && last('datastore-cafile'))) return 'external-etcd-tls';
    return 'external';
  }
  if (/^true$/i.test(last('cluster-init') ?? '') || (last('server') ?? '') !== '') return 'etcd';
  return 'sqlite';
}

/**
 * Whether the kubelet takes its settings from a config file (K3s v1.32.1 and newer; earlier
 * lines pass them as flags). v1.32.1-v1.32.3 also dropped --read-only-port=0 from the line;
 * v1.32.4 and newer put it back.
 */
export function kubeletConfigFileEra(v: K3sVersion): boolean {
  return atLeast(v, 33) || (v.minor === 32 && (v.patch === null || v.patch >= 1));
}

export function kubeletDropsReadOnlyPort(v: K3sVersion): boolean {
  return v.minor === 32 && v.patch !== null && v.patch >= 1 && v.patch <= 3;
}

function isTrue(merged: MergedConfig, key: string): boolean {
  return /^true$/i.test(merged.get(key)?.items.at(-1)?.value ?? '');
}

export function defaultArgs(component: Component, v: K3sVersion, merged: MergedConfig): Map<string, string> {
  const d = new Map<string, string>();
  const set = (k: string, value: string) => d.set(k, value);
  switch (component) {
    case 'kube-apiserver': {
      set('advertise-port', '6443');
      set('allow-privileged', 'true');
      set('anonymous-auth', 'false');
      set('api-audiences', 'https://kubernetes.default.svc.cluster.local,k3s');
      set('authorization-mode', 'Node,RBAC');
      set('bind-address', '127.0.0.1');
      set('cert-dir', `${TLS}/temporary-certs`);
      set('client-ca-file', `${TLS}/client-ca.crt`);
      set('egress-selector-config-file', '/var/lib/rancher/k3s/server/etc/egress-selector-config.yaml');
      set('enable-admission-plugins', 'NodeRestriction');
      set('enable-aggregator-routing', 'true');
      set('enable-bootstrap-token-auth', 'true');
      const ds = datastoreOf(merged);
      if (ds === 'etcd') {
        set('etcd-cafile', `${TLS}/etcd/server-ca.crt`);
        set('etcd-certfile', `${TLS}/etcd/client.crt`);
        set('etcd-keyfile', `${TLS}/etcd/client.key`);
        set('etcd-servers', 'https://127.0.0.1:2379');
      } else if (ds === 'external-etcd-tls') {
        set('etcd-cafile', merged.get('datastore-cafile')?.items.at(-1)?.value ?? `${TLS}/etcd/server-ca.crt`);
        if (merged.get('datastore-certfile')) set('etcd-certfile', merged.get('datastore-certfile')!.items.at(-1)!.value);
        if (merged.get('datastore-keyfile')) set('etcd-keyfile', merged.get('datastore-keyfile')!.items.at(-1)!.value);
        set('etcd-servers', merged.get('datastore-endpoint')!.items.at(-1)!.value);
      } else {
        set('etcd-servers', 'unix://kine.sock');
      }
      if (isTrue(merged, 'secrets-encryption')) {
        set('encryption-provider-config', `${CRED}/encryption-config.json`);
        set('encryption-provider-config-automatic-reload', 'true');
      }
      set('kubelet-certificate-authority', `${TLS}/server-ca.crt`);
      set('kubelet-client-certificate', `${TLS}/client-kube-apiserver.crt`);
      set('kubelet-client-key', `${TLS}/client-kube-apiserver.key`);
      set('profiling', 'false');
      set('proxy-client-cert-file', `${TLS}/client-auth-proxy.crt`);
      set('proxy-client-key-file', `${TLS}/client-auth-proxy.key`);
      set('requestheader-allowed-names', 'system:auth-proxy');
      set('requestheader-client-ca-file', `${TLS}/request-header-ca.crt`);
      set('requestheader-extra-headers-prefix', 'X-Remote-Extra-');
      set('requestheader-group-headers', 'X-Remote-Group');
      set('requestheader-username-headers', 'X-Remote-User');
      set('secure-port', '6444');
      set('service-account-issuer', 'https://kubernetes.default.svc.cluster.local');
      set('service-account-key-file', `${TLS}/service.key`);
      set('service-account-signing-key-file', `${TLS}/service.current.key`);
      set('service-cluster-ip-range', '10.43.0.0/16');
      set('service-node-port-range', '30000-32767');
      set('storage-backend', 'etcd3');
      set('tls-cert-file', `${TLS}/serving-kube-apiserver.crt`);
      set('tls-cipher-suites', K3S_APISERVER_CIPHERS);
      set('tls-private-key-file', `${TLS}/serving-kube-apiserver.key`);
      return d;
    }
    case 'kube-controller-manager':
      set('allocate-node-cidrs', 'true');
      set('authentication-kubeconfig', `${CRED}/controller.kubeconfig`);
      set('authorization-kubeconfig', `${CRED}/controller.kubeconfig`);
      set('bind-address', '127.0.0.1');
      set('cluster-cidr', '10.42.0.0/16');
      set('cluster-signing-kube-apiserver-client-cert-file', `${TLS}/client-ca.nochain.crt`);
      set('configure-cloud-routes', 'false');
      set('controllers', '*,tokencleaner,-service,-route,-cloud-node-lifecycle');
      set('kubeconfig', `${CRED}/controller.kubeconfig`);
      set('profiling', 'false');
      set('root-ca-file', `${TLS}/server-ca.crt`);
      set('secure-port', '10257');
      set('service-account-private-key-file', `${TLS}/service.current.key`);
      set('service-cluster-ip-range', '10.43.0.0/16');
      set('use-service-account-credentials', 'true');
      return d;
    case 'kube-scheduler':
      set('authentication-kubeconfig', `${CRED}/scheduler.kubeconfig`);
      set('authorization-kubeconfig', `${CRED}/scheduler.kubeconfig`);
      set('bind-address', '127.0.0.1');
      set('kubeconfig', `${CRED}/scheduler.kubeconfig`);
      set('profiling', 'false');
      set('secure-port', '10259');
      return d;
    case 'kubelet':
      if (kubeletConfigFileEra(v)) {
        set('cloud-provider', 'external');
        set('config-dir', `${AGENT}/etc/kubelet.conf.d`);
        set('containerd', '/run/k3s/containerd/containerd.sock');
        set('hostname-override', 'node');
        set('kubeconfig', `${AGENT}/kubelet.kubeconfig`);
        set('node-labels', '');
        if (!kubeletDropsReadOnlyPort(v)) set('read-only-port', '0');
        return d;
      }
      set('address', '0.0.0.0');
      set('anonymous-auth', 'false');
      set('authentication-token-webhook', 'true');
      set('authorization-mode', 'Webhook');
      set('cgroup-driver', 'systemd');
      set('client-ca-file', `${AGENT}/client-ca.crt`);
      set('cloud-provider', 'external');
      set('cluster-dns', '10.43.0.10');
      set('cluster-domain', 'cluster.local');
      set('container-runtime-endpoint', 'unix:///run/k3s/containerd/containerd.sock');
      set('containerd', '/run/k3s/containerd/containerd.sock');
      set('eviction-hard', 'imagefs.available<5%,nodefs.available<5%');
      set('eviction-minimum-reclaim', 'imagefs.available=10%,nodefs.available=10%');
      set('fail-swap-on', 'false');
      set('healthz-bind-address', '127.0.0.1');
      set('hostname-override', 'node');
      set('kubeconfig', `${AGENT}/kubelet.kubeconfig`);
      set('node-labels', '');
      set('pod-manifest-path', `${AGENT}/pod-manifests`);
      if (isTrue(merged, 'protect-kernel-defaults')) set('protect-kernel-defaults', 'true');
      set('read-only-port', '0');
      set('resolv-conf', '/run/systemd/resolve/resolv.conf');
      set('serialize-image-pulls', 'false');
      set('tls-cert-file', `${AGENT}/serving-kubelet.crt`);
      set('tls-private-key-file', `${AGENT}/serving-kubelet.key`);
      return d;
    case 'kube-proxy':
      set('cluster-cidr', '10.42.0.0/16');
      set('conntrack-max-per-core', '0');
      set('conntrack-tcp-timeout-close-wait', '0s');
      set('conntrack-tcp-timeout-established', '0s');
      set('healthz-bind-address', '127.0.0.1');
      set('hostname-override', 'node');
      set('kubeconfig', `${AGENT}/kubeproxy.kubeconfig`);
      set('proxy-mode', 'iptables');
      return d;
  }
}

/** K3s' GetArgs: defaults merged with the user's "name=value" list, sorted by name, repeats kept in order. */
export function getArgs(initial: Map<string, string>, extra: readonly string[]): string[] {
  const defaults = new Map(initial);
  const multi = new Map<string, string[]>();
  for (const raw of extra) {
    const text = raw.replace(/^--/, '');
    const eq = text.indexOf('=');
    const arg = eq < 0 ? text : text.slice(0, eq);
    const value = eq < 0 ? 'true' : text.slice(eq + 1);
    const clean = arg.replace(/[-+]+$/, '');
    const initialValue = defaults.get(clean);
    const existing = multi.get(clean);
    let values: string[];
    if (arg.endsWith('+')) values = [...(initialValue !== undefined ? [initialValue] : []), ...(existing ?? []), value];
    else if (arg.endsWith('-')) values = [value, ...(initialValue !== undefined ? [initialValue] : []), ...(existing ?? [])];
    else values = [...(existing ?? []), value];
    defaults.delete(clean);
    multi.set(clean, values);
  }
  for (const [k, v] of defaults) multi.set(k, [v]);
  const keys = [...multi.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.flatMap((k) => multi.get(k)!.map((v) => `--${k}=${v}`));
}

const ARG_KEY: Record<Component, string> = {
  'kube-apiserver': 'kube-apiserver-arg',
  'kube-controller-manager': 'kube-controller-manager-arg',
  'kube-scheduler': 'kube-scheduler-arg',
  kubelet: 'kubelet-arg',
  'kube-proxy': 'kube-proxy-arg',
};

/** The arguments K3s will give a component under this merged configuration. */
export function componentArgs(component: Component, v: K3sVersion, merged: MergedConfig): string[] {
  const extra = (merged.get(ARG_KEY[component])?.items ?? []).map((i) => i.value);
  return getArgs(defaultArgs(component, v, merged), extra);
}

/** The journal line K3s logs when it starts the component (logrus text format under systemd). */
export function runningLine(component: Component, args: readonly string[]): string {
  return `level=info msg="Running ${component} ${args.join(' ')}"`;
}

/** The components a node of this role runs. */
export function componentsOf(role: 'server' | 'agent'): Component[] {
  return role === 'server' ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] : ['kubelet', 'kube-proxy'];
}
