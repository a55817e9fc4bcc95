/**
 * The objects of policy.yaml, which K3s applies from its manifests directory: NetworkPolicies
 * for every version, and on v1.24 and older the guide's PodSecurityPolicies with their RBAC.
 * Pure.
 */
import { emitYaml } from '../yaml/emit.js';
import type { Config } from '../config/schema.js';
import type { K3sComponent } from './components.js';
import { hasPodSecurityPolicy, type K3sVersion } from './version.js';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } } & Record<
  string,
  unknown
>;

/** The namespace CoreDNS runs in. */
export const DNS_NAMESPACE = 'kube-system';

/** Ingress from the namespace itself, selected by the label Kubernetes sets on every namespace. */
export function intraNamespacePolicy(namespace: string): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'intra-namespace', namespace },
    spec: {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } }] }],
      policyTypes: ['Ingress'],
    },
  };
}

function allowAll(name: string, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'kube-system' },
    spec: { podSelector: { matchLabels: labels }, ingress: [{}], policyTypes: ['Ingress'] },
  };
}

export function networkPolicies(config: Config, disabled: ReadonlySet<K3sComponent>): K8sObject[] {
  const objects = config.networkPolicy.namespaces.map(intraNamespacePolicy);
  objects.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-network-dns-policy', namespace: DNS_NAMESPACE },
    spec: {
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      ingress: [
        {
          ports: [
            { port: 53, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        },
      ],
      policyTypes: ['Ingress'],
    },
  });
  if (!disabled.has('metrics-server')) objects.push(allowAll('allow-all-metrics-server', { 'k8s-app': 'metrics-server' }));
  if (!disabled.has('traefik')) {
    objects.push(allowAll('allow-all-svclbtraefik-ingress', { 'svccontroller.k3s.cattle.io/svcname': 'traefik' }));
    objects.push(allowAll('allow-all-traefik-v121-ingress', { 'app.kubernetes.io/name': 'traefik' }));
  }
  return objects;
}

const ANY_PROFILE = { 'seccomp.security.alpha.kubernetes.io/allowedProfileNames': '*' };
const RBAC = 'rbac.authorization.k8s.io';

function pspUseRole(name: string, psp: string): K8sObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRole',
    metadata: { name },
    rules: [{ apiGroups: ['policy'], resources: ['podsecuritypolicies'], verbs: ['use'], resourceNames: [psp] }],
  };
}

function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, role: string, subject: Record<string, string>, namespace?: string): K8sObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind,
    metadata: namespace ? { name, namespace } : { name },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [subject],
  };
}

const group = (name: string) => ({ kind: 'Group', apiGroup: RBAC, name });
const serviceAccount = (name: string, namespace: string) => ({ kind: 'ServiceAccount', name, namespace });

/** The guide's PodSecurityPolicies (CIS 5.2), their ClusterRoles and bindings; service-account subjects carry their namespace. */
export function podSecurityPolicies(): K8sObject[] {
  const ranges = [{ min: 1, max: 65535 }];
  return [
    {
      apiVersion: 'policy/v1beta1',
      kind: 'PodSecurityPolicy',
      metadata: { name: 'restricted-psp' },
      spec: {
        privileged: false,
        allowPrivilegeEscalation: false,
        requiredDropCapabilities: ['ALL'],
        volumes: ['configMap', 'emptyDir', 'projected', 'secret', 'downwardAPI', 'csi', 'persistentVolumeClaim', 'ephemeral'],
        hostNetwork: false,
        hostIPC: false,
        hostPID: false,
        runAsUser: { rule: 'MustRunAsNonRoot' },
        seLinux: { rule: 'RunAsAny' },
        supplementalGroups: { rule: 'MustRunAs', ranges },
        fsGroup: { rule: 'MustRunAs', ranges },
        readOnlyRootFilesystem: false,
      },
    },
    {
      apiVersion: 'policy/v1beta1',
      kind: 'PodSecurityPolicy',
      metadata: { name: 'system-unrestricted-psp', annotations: ANY_PROFILE },
      spec: {
        allowPrivilegeEscalation: true,
        allowedCapabilities: ['*'],
        fsGroup: { rule: 'RunAsAny' },
        hostIPC: true,
        hostNetwork: true,
        hostPID: true,
        hostPorts: [{ min: 0, max: 65535 }],
        privileged: true,
        runAsUser: { rule: 'RunAsAny' },
        seLinux: { rule: 'RunAsAny' },
        supplementalGroups: { rule: 'RunAsAny' },
        volumes: ['*'],
      },
    },
    {
      apiVersion: 'policy/v1beta1',
      kind: 'PodSecurityPolicy',
      metadata: { name: 'svclb-psp', annotations: ANY_PROFILE },
      spec: {
        allowPrivilegeEscalation: false,
        allowedCapabilities: ['NET_ADMIN'],
        allowedUnsafeSysctls: ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'],
        fsGroup: { rule: 'RunAsAny' },
        hostPorts: [{ min: 0, max: 65535 }],
        runAsUser: { rule: 'RunAsAny' },
        seLinux: { rule: 'RunAsAny' },
        supplementalGroups: { rule: 'RunAsAny' },
      },
    },
    pspUseRole('psp:restricted-psp', 'restricted-psp'),
    pspUseRole('psp:system-unrestricted-psp', 'system-unrestricted-psp'),
    pspUseRole('psp:svclb-psp', 'svclb-psp'),
    pspUseRole('psp:svc-local-path-provisioner-psp', 'system-unrestricted-psp'),
    pspUseRole('psp:svc-coredns-psp', 'system-unrestricted-psp'),
    pspUseRole('psp:svc-cis-operator-psp', 'system-unrestricted-psp'),
    binding('ClusterRoleBinding', 'default:restricted-psp', 'psp:restricted-psp', group('system:authenticated')),
    binding('ClusterRoleBinding', 'system-unrestricted-node-psp-rolebinding', 'psp:system-unrestricted-psp', group('system:nodes')),
    binding('RoleBinding', 'system-unrestricted-svc-acct-psp-rolebinding', 'psp:system-unrestricted-psp', group('system:serviceaccounts'), 'kube-system'),
    binding('RoleBinding', 'svclb-psp-rolebinding', 'psp:svclb-psp', serviceAccount('svclb', 'kube-system'), 'kube-system'),
    binding(
      'RoleBinding',
      'svc-local-path-provisioner-psp-rolebinding',
      'psp:svc-local-path-provisioner-psp',
      serviceAccount('local-path-provisioner-service-account', 'kube-system'),
      'kube-system',
    ),
    binding('RoleBinding', 'svc-coredns-psp-rolebinding', 'psp:svc-coredns-psp', serviceAccount('coredns', 'kube-system'), 'kube-system'),
    binding(
      'RoleBinding',
      'svc-cis-operator-psp-rolebinding',
      'psp:svc-cis-operator-psp',
      serviceAccount('cis-operator-serviceaccount', 'cis-operator-system'),
      'cis-operator-system',
    ),
  ];
}

export function policyObjects(config: Config, version: K3sVersion, disabled: ReadonlySet<K3sComponent>): K8sObject[] {
  return [...(hasPodSecurityPolicy(version) ? podSecurityPolicies() : []), ...networkPolicies(config, disabled)];
}

/** Multi-document YAML, one object per document. */
export function renderObjects(objects: readonly object[]): string {
  return objects.map((o) => `---\n${emitYaml(o)}`).join('');
}

export function renderPolicy(config: Config, version: K3sVersion, disabled: ReadonlySet<K3sComponent>): string {
  const psp = hasPodSecurityPolicy(version);
  const header = [
    `# Network policies (CIS 5.3.2)${psp ? ' and PodSecurityPolicies (CIS 5.2.1-5.2.9)' : ''} for K3s ${psp ? 'v1.24 and older' : 'v1.25 and newer (PodSecurityPolicy is gone; see psa.yaml)'}.`,
    '# K3s applies every file in its manifests directory; namespaces are selected by kubernetes.io/metadata.name.',
  ];
  return `${header.join('\n')}\n${renderObjects(policyObjects(config, version, disabled))}`;
}
