/**
 * The checks of kube-bench's k3s-cis-1.24 benchmark as data: one row per check. Derived by
 * scripts/kube-bench-rows.mjs from aquasecurity/kube-bench cfg/k3s-cis-1.24 at a73ce378418c71c5861e6963753f50dec3badadf;
 * regenerate rather than edit.
 */
import type { BenchRow } from '../rows.js';

export const K3S_CIS_1_24: readonly BenchRow[] = [
  {
    id: '1.1.1',
    text: 'Ensure that the API server pod specification file permissions are set to 644 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.2',
    text: 'Ensure that the API server pod specification file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.3',
    text: 'Ensure that the controller manager pod specification file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.4',
    text: 'Ensure that the controller manager pod specification file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.5',
    text: 'Ensure that the scheduler pod specification file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.6',
    text: 'Ensure that the scheduler pod specification file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.7',
    text: 'Ensure that the etcd pod specification file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.8',
    text: 'Ensure that the etcd pod specification file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.9',
    text: 'Ensure that the Container Network Interface file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: false,
    target: 'master',
    multi: true,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.10',
    text: 'Ensure that the Container Network Interface file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: true,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.11',
    text: 'Ensure that the etcd data directory permissions are set to 700 or more restrictive',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'etcd-dir-mode',
      path: '/var/lib/rancher/k3s/server/db/etcd',
      fallback: 'permissions=700',
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '700',
        },
      ],
    },
  },
  {
    id: '1.1.12',
    text: 'Ensure that the etcd data directory ownership is set to etcd:etcd',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.13',
    text: 'Ensure that the admin.conf file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.1.14',
    text: 'Ensure that the admin.conf file ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/server/cred/admin.kubeconfig',
      format: '%U:%G',
      ifExists: true,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'root:root',
          set: true,
          op: 'eq',
          value: 'root:root',
        },
      ],
    },
  },
  {
    id: '1.1.15',
    text: 'Ensure that the scheduler.conf file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig',
      format: 'permissions=%a',
      ifExists: true,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '1.1.16',
    text: 'Ensure that the scheduler.conf file ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig',
      format: '%U:%G',
      ifExists: true,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'root:root',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.1.17',
    text: 'Ensure that the controller-manager.conf file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/server/cred/controller.kubeconfig',
      format: 'permissions=%a',
      ifExists: true,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '1.1.18',
    text: 'Ensure that the controller-manager.conf file ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/server/tls',
      format: '%U:%G',
      ifExists: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'root:root',
          set: true,
          op: 'eq',
          value: 'root:root',
        },
      ],
    },
  },
  {
    id: '1.1.19',
    text: 'Ensure that the Kubernetes PKI directory and file ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: true,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/server/tls',
      format: 'permissions=%a',
      ifExists: false,
      find: true,
      recursive: true,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'root:root',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.1.20',
    text: 'Ensure that the Kubernetes PKI certificate file permissions are set to 600 or more restrictive',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: true,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/server/tls/*.crt',
      format: 'permissions=%a',
      ifExists: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '1.1.21',
    text: 'Ensure that the Kubernetes PKI key file permissions are set to 600',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: true,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/server/tls/*.key',
      format: 'permissions=%a',
      ifExists: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '1.2.1',
    text: 'Ensure that the --anonymous-auth argument is set to false',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'anonymous-auth',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--anonymous-auth',
          set: true,
          op: 'eq',
          value: 'false',
        },
      ],
    },
  },
  {
    id: '1.2.2',
    text: 'Ensure that the --token-auth-file parameter is not set',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--token-auth-file',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.2.3',
    text: 'Ensure that the --DenyServiceExternalIPs is not set',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'nothave',
          value: 'DenyServiceExternalIPs',
        },
        {
          flag: '--enable-admission-plugins',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.2.4',
    text: 'Ensure that the --kubelet-https argument is set to true',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '1.2.5',
    text: 'Ensure that the --kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'kubelet-certificate-authority',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--kubelet-client-certificate',
          set: true,
        },
        {
          flag: '--kubelet-client-key',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.6',
    text: 'Ensure that the --kubelet-certificate-authority argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'kubelet-certificate-authority',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--kubelet-certificate-authority',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.7',
    text: 'Ensure that the --authorization-mode argument is not set to AlwaysAllow',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'authorization-mode',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--authorization-mode',
          set: true,
          op: 'nothave',
          value: 'AlwaysAllow',
        },
      ],
    },
  },
  {
    id: '1.2.8',
    text: 'Ensure that the --authorization-mode argument includes Node',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'authorization-mode',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--authorization-mode',
          set: true,
          op: 'has',
          value: 'Node',
        },
      ],
    },
  },
  {
    id: '1.2.9',
    text: 'Ensure that the --authorization-mode argument includes RBAC',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'authorization-mode',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--authorization-mode',
          set: true,
          op: 'has',
          value: 'RBAC',
        },
      ],
    },
  },
  {
    id: '1.2.10',
    text: 'Ensure that the admission control plugin EventRateLimit is set',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'enable-admission-plugins',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'has',
          value: 'EventRateLimit',
        },
      ],
    },
  },
  {
    id: '1.2.11',
    text: 'Ensure that the admission control plugin AlwaysAdmit is not set',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'enable-admission-plugins',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'nothave',
          value: 'AlwaysAdmit',
        },
        {
          flag: '--enable-admission-plugins',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.2.12',
    text: 'Ensure that the admission control plugin AlwaysPullImages is set',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'enable-admission-plugins',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'has',
          value: 'AlwaysPullImages',
        },
      ],
    },
  },
  {
    id: '1.2.13',
    text: 'Ensure that the admission control plugin SecurityContextDeny is set if PodSecurityPolicy is not used',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'enable-admission-plugins',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'has',
          value: 'SecurityContextDeny',
        },
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'has',
          value: 'PodSecurityPolicy',
        },
      ],
    },
  },
  {
    id: '1.2.14',
    text: 'Ensure that the admission control plugin ServiceAccount is set',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'ServiceAccount',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--disable-admission-plugins',
          set: true,
          op: 'nothave',
          value: 'ServiceAccount',
        },
        {
          flag: '--disable-admission-plugins',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.2.15',
    text: 'Ensure that the admission control plugin NamespaceLifecycle is set',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--disable-admission-plugins',
          set: true,
          op: 'nothave',
          value: 'NamespaceLifecycle',
        },
        {
          flag: '--disable-admission-plugins',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.2.16',
    text: 'Ensure that the admission control plugin NodeRestriction is set',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'enable-admission-plugins',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--enable-admission-plugins',
          set: true,
          op: 'has',
          value: 'NodeRestriction',
        },
      ],
    },
  },
  {
    id: '1.2.17',
    text: 'Ensure that the --secure-port argument is not set to 0',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'secure-port',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--secure-port',
          set: true,
          op: 'gt',
          value: '0',
        },
        {
          flag: '--secure-port',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.2.18',
    text: 'Ensure that the --profiling argument is set to false',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'profiling',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--profiling',
          set: true,
          op: 'eq',
          value: 'false',
        },
      ],
    },
  },
  {
    id: '1.2.19',
    text: 'Ensure that the --audit-log-path argument is set',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'audit-log-path',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--audit-log-path',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.20',
    text: 'Ensure that the --audit-log-maxage argument is set to 30 or as appropriate',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'audit-log-maxage',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--audit-log-maxage',
          set: true,
          op: 'gte',
          value: '30',
        },
      ],
    },
  },
  {
    id: '1.2.21',
    text: 'Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'audit-log-maxbackup',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--audit-log-maxbackup',
          set: true,
          op: 'gte',
          value: '10',
        },
      ],
    },
  },
  {
    id: '1.2.22',
    text: 'Ensure that the --audit-log-maxsize argument is set to 100 or as appropriate',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'audit-log-maxsize',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--audit-log-maxsize',
          set: true,
          op: 'gte',
          value: '100',
        },
      ],
    },
  },
  {
    id: '1.2.23',
    text: 'Ensure that the --request-timeout argument is set as appropriate',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'request-timeout',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--request-timeout',
          set: false,
        },
        {
          flag: '--request-timeout',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.24',
    text: 'Ensure that the --service-account-lookup argument is set to true',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--service-account-lookup',
          set: false,
        },
        {
          flag: '--service-account-lookup',
          set: true,
          op: 'eq',
          value: 'true',
        },
      ],
    },
  },
  {
    id: '1.2.25',
    text: 'Ensure that the --service-account-key-file argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'service-account-key-file',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--service-account-key-file',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.26',
    text: 'Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      which: 'first',
      greps: [],
      fallback: '--etcd-certfile AND --etcd-keyfile',
      fallbackWhen: 'no-managed-etcd',
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--etcd-certfile',
          set: true,
        },
        {
          flag: '--etcd-keyfile',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.27',
    text: 'Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      nextLine: true,
      greps: [],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--tls-cert-file',
          set: true,
        },
        {
          flag: '--tls-private-key-file',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.28',
    text: 'Ensure that the --client-ca-file argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'client-ca-file',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--client-ca-file',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.29',
    text: 'Ensure that the --etcd-cafile argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'etcd-cafile',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--etcd-cafile',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.30',
    text: 'Ensure that the --encryption-provider-config argument is set as appropriate',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'encryption-provider-config',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--encryption-provider-config',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.2.31',
    text: 'Ensure that encryption providers are appropriately configured',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'encryption-providers',
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'provider',
          set: true,
          op: 'valid_elements',
          value: 'aescbc,kms,secretbox',
        },
      ],
    },
  },
  {
    id: '1.2.32',
    text: 'Ensure that the API Server only makes use of Strong Cryptographic Ciphers',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'tls-cipher-suites',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--tls-cipher-suites',
          set: true,
          op: 'valid_elements',
          value:
            'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_256_GCM_SHA384',
        },
      ],
    },
  },
  {
    id: '1.3.1',
    text: 'Ensure that the --terminated-pod-gc-threshold argument is set as appropriate',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [
        {
          pattern: 'terminated-pod-gc-threshold',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--terminated-pod-gc-threshold',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.3.2',
    text: 'Ensure that the --profiling argument is set to false',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [
        {
          pattern: 'profiling',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--profiling',
          set: true,
          op: 'eq',
          value: 'false',
        },
      ],
    },
  },
  {
    id: '1.3.3',
    text: 'Ensure that the --use-service-account-credentials argument is set to true',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [
        {
          pattern: 'use-service-account-credentials',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--use-service-account-credentials',
          set: true,
          op: 'noteq',
          value: 'false',
        },
      ],
    },
  },
  {
    id: '1.3.4',
    text: 'Ensure that the --service-account-private-key-file argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [
        {
          pattern: 'service-account-private-key-file',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--service-account-private-key-file',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.3.5',
    text: 'Ensure that the --root-ca-file argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [
        {
          pattern: 'root-ca-file',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--root-ca-file',
          set: true,
        },
      ],
    },
  },
  {
    id: '1.3.6',
    text: 'Ensure that the RotateKubeletServerCertificate argument is set to true',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--feature-gates',
          set: true,
          op: 'nothave',
          value: 'RotateKubeletServerCertificate=false',
        },
        {
          flag: '--feature-gates',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.3.7',
    text: 'Ensure that the --bind-address argument is set to 127.0.0.1',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-controller-manager',
      units: ['k3s'],
      greps: [
        {
          pattern: 'bind-address',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--bind-address',
          set: true,
          op: 'eq',
          value: '127.0.0.1',
        },
        {
          flag: '--bind-address',
          set: false,
        },
      ],
    },
  },
  {
    id: '1.4.1',
    text: 'Ensure that the --profiling argument is set to false',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-scheduler',
      units: ['k3s'],
      greps: [],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--profiling',
          set: true,
          op: 'eq',
          value: 'false',
        },
      ],
    },
  },
  {
    id: '1.4.2',
    text: 'Ensure that the --bind-address argument is set to 127.0.0.1',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'master',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-scheduler',
      units: ['k3s'],
      greps: [
        {
          pattern: 'bind-address',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--bind-address',
          set: true,
          op: 'eq',
          value: '127.0.0.1',
        },
        {
          flag: '--bind-address',
          set: false,
        },
      ],
    },
  },
  {
    id: '3.1.1',
    text: 'Client certificate authentication should not be used for users',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'controlplane',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '3.2.1',
    text: 'Ensure that a minimal audit policy is created',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'controlplane',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kube-apiserver',
      units: ['k3s'],
      greps: [
        {
          pattern: 'audit-policy-file',
          only: false,
        },
      ],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--audit-policy-file',
          set: true,
        },
      ],
    },
  },
  {
    id: '3.2.2',
    text: 'Ensure that the audit policy covers key security concerns',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'controlplane',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '2.1',
    text: 'Ensure that the --cert-file and --key-file arguments are set as appropriate',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          path: '{.client-transport-security.cert-file}',
          set: true,
          op: 'eq',
          value: '/var/lib/rancher/k3s/server/tls/etcd/server-client.crt',
        },
        {
          path: '{.client-transport-security.key-file}',
          set: true,
          op: 'eq',
          value: '/var/lib/rancher/k3s/server/tls/etcd/server-client.key',
        },
      ],
    },
  },
  {
    id: '2.2',
    text: 'Ensure that the --client-cert-auth argument is set to true',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          path: '{.client-transport-security.client-cert-auth}',
          set: true,
          op: 'eq',
          value: 'true',
        },
      ],
    },
  },
  {
    id: '2.3',
    text: 'Ensure that the --auto-tls argument is not set to true',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'or',
      items: [
        {
          path: '{.client-transport-security.auto-tls}',
          set: true,
          op: 'eq',
          value: 'false',
        },
        {
          path: '{.client-transport-security.auto-tls}',
          set: false,
        },
      ],
    },
  },
  {
    id: '2.4',
    text: 'Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          path: '{.peer-transport-security.cert-file}',
          set: true,
          op: 'eq',
          value: '/var/lib/rancher/k3s/server/tls/etcd/peer-server-client.crt',
        },
        {
          path: '{.peer-transport-security.key-file}',
          set: true,
          op: 'eq',
          value: '/var/lib/rancher/k3s/server/tls/etcd/peer-server-client.key',
        },
      ],
    },
  },
  {
    id: '2.5',
    text: 'Ensure that the --peer-client-cert-auth argument is set to true',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          path: '{.peer-transport-security.client-cert-auth}',
          set: true,
          op: 'eq',
          value: 'true',
        },
      ],
    },
  },
  {
    id: '2.6',
    text: 'Ensure that the --peer-auto-tls argument is not set to true',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'or',
      items: [
        {
          path: '{.peer-transport-security.auto-tls}',
          set: true,
          op: 'eq',
          value: 'false',
        },
        {
          path: '{.peer-transport-security.auto-tls}',
          set: false,
        },
      ],
    },
  },
  {
    id: '2.7',
    text: 'Ensure that a unique Certificate Authority is used for etcd',
    automated: true,
    type: 'automated',
    scored: false,
    target: 'etcd',
    multi: false,
    reads: {
      kind: 'etcd-config',
      grep: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          path: '{.peer-transport-security.trusted-ca-file}',
          set: true,
          op: 'eq',
          value: '/var/lib/rancher/k3s/server/tls/etcd/peer-ca.crt',
        },
      ],
    },
  },
  {
    id: '4.1.1',
    text: 'Ensure that the kubelet service file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '4.1.2',
    text: 'Ensure that the kubelet service file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '4.1.3',
    text: 'If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig',
      format: 'permissions=%a',
      ifExists: true,
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '4.1.4',
    text: 'If proxy kubeconfig file exists ensure ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig',
      format: '%U:%G',
      ifExists: false,
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: 'root:root',
          set: true,
        },
      ],
    },
  },
  {
    id: '4.1.5',
    text: 'Ensure that the --kubeconfig kubelet.conf file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/agent/kubelet.kubeconfig',
      format: 'permissions=%a',
      ifExists: true,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '4.1.6',
    text: 'Ensure that the --kubeconfig kubelet.conf file ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/agent/kubelet.kubeconfig',
      format: '%U:%G',
      ifExists: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'root:root',
          set: true,
          op: 'eq',
          value: 'root:root',
        },
      ],
    },
  },
  {
    id: '4.1.7',
    text: 'Ensure that the certificate authorities file permissions are set to 600 or more restrictive',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'mode',
      path: '/var/lib/rancher/k3s/agent/client-ca.crt',
      format: 'permissions=%a',
      ifExists: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'permissions',
          set: true,
          op: 'bitmask',
          value: '600',
        },
      ],
    },
  },
  {
    id: '4.1.8',
    text: 'Ensure that the client certificate authorities file ownership is set to root:root',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'owner',
      path: '/var/lib/rancher/k3s/agent/client-ca.crt',
      format: '%U:%G',
      ifExists: false,
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: 'root:root',
          set: true,
          op: 'eq',
          value: 'root:root',
        },
      ],
    },
  },
  {
    id: '4.1.9',
    text: 'If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more restrictive',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '4.1.10',
    text: 'If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '4.2.1',
    text: 'Ensure that the --anonymous-auth argument is set to false',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [
        {
          pattern: 'anonymous-auth',
          only: false,
        },
        {
          pattern: 'grep',
          invert: true,
        },
      ],
      fallback: '--anonymous-auth=false',
      fallbackWhen: 'no-line',
      countUnits: ['k3s', 'k3s-agent'],
      countComponent: 'kubelet',
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--anonymous-auth',
          path: '{.authentication.anonymous.enabled}',
          set: true,
          op: 'eq',
          value: 'false',
        },
      ],
    },
  },
  {
    id: '4.2.2',
    text: 'Ensure that the --authorization-mode argument is not set to AlwaysAllow',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [
        {
          pattern: 'authorization-mode',
          only: false,
        },
      ],
      fallback: '--authorization-mode=Webhook',
      fallbackWhen: 'no-line',
      countUnits: ['k3s', 'k3s-agent'],
      countComponent: 'kubelet',
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--authorization-mode',
          path: '{.authorization.mode}',
          set: true,
          op: 'nothave',
          value: 'AlwaysAllow',
        },
      ],
    },
  },
  {
    id: '4.2.3',
    text: 'Ensure that the --client-ca-file argument is set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [
        {
          pattern: 'client-ca-file',
          only: false,
        },
      ],
      fallback: '--client-ca-file=/var/lib/rancher/k3s/server/tls/request-header-ca.crt',
      fallbackWhen: 'no-line',
      countUnits: ['k3s', 'k3s-agent'],
      countComponent: 'kubelet',
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--client-ca-file',
          path: '{.authentication.x509.clientCAFile}',
          set: true,
        },
      ],
    },
  },
  {
    id: '4.2.4',
    text: 'Verify that the --read-only-port argument is set to 0',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--read-only-port',
          path: '{.readOnlyPort}',
          set: true,
          op: 'eq',
          value: '0',
        },
        {
          flag: '--read-only-port',
          path: '{.readOnlyPort}',
          set: false,
        },
      ],
    },
  },
  {
    id: '4.2.5',
    text: 'Ensure that the --streaming-connection-idle-timeout argument is not set to 0',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--streaming-connection-idle-timeout',
          path: '{.streamingConnectionIdleTimeout}',
          set: true,
          op: 'noteq',
          value: '0',
        },
        {
          flag: '--streaming-connection-idle-timeout',
          path: '{.streamingConnectionIdleTimeout}',
          set: false,
        },
      ],
    },
  },
  {
    id: '4.2.6',
    text: 'Ensure that the --protect-kernel-defaults argument is set to true',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--protect-kernel-defaults',
          path: '{.protectKernelDefaults}',
          set: true,
          op: 'eq',
          value: 'true',
        },
      ],
    },
  },
  {
    id: '4.2.7',
    text: 'Ensure that the --make-iptables-util-chains argument is set to true',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--make-iptables-util-chains',
          path: '{.makeIPTablesUtilChains}',
          set: true,
          op: 'eq',
          value: 'true',
        },
        {
          flag: '--make-iptables-util-chains',
          path: '{.makeIPTablesUtilChains}',
          set: false,
        },
      ],
    },
  },
  {
    id: '4.2.8',
    text: 'Ensure that the --hostname-override argument is not set',
    automated: true,
    type: 'skip',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '4.2.9',
    text: 'Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
      config: {
        kind: 'file-content',
        path: '/var/lib/kubelet/config.yaml',
        ifExists: false,
      },
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--event-qps',
          path: '{.eventRecordQPS}',
          set: true,
          op: 'eq',
          value: '0',
        },
      ],
    },
  },
  {
    id: '4.2.10',
    text: 'Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--tls-cert-file',
          path: '/var/lib/rancher/k3s/agent/serving-kubelet.crt',
          set: true,
        },
        {
          flag: '--tls-private-key-file',
          path: '/var/lib/rancher/k3s/agent/serving-kubelet.key',
          set: true,
        },
      ],
    },
  },
  {
    id: '4.2.11',
    text: 'Ensure that the --rotate-certificates argument is not set to false',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
      config: {
        kind: 'file-content',
        path: '/var/lib/kubelet/config.yaml',
        ifExists: true,
      },
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: '--rotate-certificates',
          path: '{.rotateCertificates}',
          set: true,
          op: 'eq',
          value: 'true',
        },
        {
          flag: '--rotate-certificates',
          path: '{.rotateCertificates}',
          set: false,
        },
      ],
    },
  },
  {
    id: '4.2.12',
    text: 'Verify that the RotateKubeletServerCertificate argument is set to true',
    automated: true,
    type: 'automated',
    scored: true,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
    },
    tests: {
      binOp: 'or',
      items: [
        {
          flag: 'RotateKubeletServerCertificate',
          path: '{.featureGates.RotateKubeletServerCertificate}',
          set: true,
          op: 'nothave',
          value: 'false',
        },
        {
          flag: 'RotateKubeletServerCertificate',
          path: '{.featureGates.RotateKubeletServerCertificate}',
          set: false,
        },
      ],
    },
  },
  {
    id: '4.2.13',
    text: 'Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers',
    automated: false,
    type: 'automated',
    scored: false,
    target: 'node',
    multi: false,
    reads: {
      kind: 'line',
      component: 'kubelet',
      units: ['k3s', 'k3s-agent'],
      greps: [],
      config: {
        kind: 'file-content',
        path: '/var/lib/kubelet/config.yaml',
        ifExists: false,
      },
    },
    tests: {
      binOp: 'and',
      items: [
        {
          flag: '--tls-cipher-suites',
          path: "{range .tlsCipherSuites[:]}{}{','}{end}",
          set: true,
          op: 'valid_elements',
          value:
            'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_GCM_SHA256',
        },
      ],
    },
  },
  {
    id: '5.1.1',
    text: 'Ensure that the cluster-admin role is only used where required',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.2',
    text: 'Minimize access to secrets',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.3',
    text: 'Minimize wildcard use in Roles and ClusterRoles',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.4',
    text: 'Minimize access to create pods',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.5',
    text: 'Ensure that default service accounts are not actively used.',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.6',
    text: 'Ensure that Service Account Tokens are only mounted where necessary',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.7',
    text: 'Avoid use of system:masters group',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.1.8',
    text: 'Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.1',
    text: 'Ensure that the cluster has at least one active policy control mechanism in place',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.2',
    text: 'Minimize the admission of privileged containers',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.3',
    text: 'Minimize the admission of containers wishing to share the host process ID namespace',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.4',
    text: 'Minimize the admission of containers wishing to share the host IPC namespace',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.5',
    text: 'Minimize the admission of containers wishing to share the host network namespace',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.6',
    text: 'Minimize the admission of containers with allowPrivilegeEscalation',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.7',
    text: 'Minimize the admission of root containers',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.8',
    text: 'Minimize the admission of containers with the NET_RAW capability',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.9',
    text: 'Minimize the admission of containers with added capabilities',
    automated: true,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.10',
    text: 'Minimize the admission of containers with capabilities assigned',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.11',
    text: 'Minimize the admission of Windows HostProcess containers',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.12',
    text: 'Minimize the admission of HostPath volumes',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.2.13',
    text: 'Minimize the admission of containers which use HostPorts',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.3.1',
    text: 'Ensure that the CNI in use supports NetworkPolicies',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.3.2',
    text: 'Ensure that all Namespaces have NetworkPolicies defined',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.4.1',
    text: 'Prefer using Secrets as files over Secrets as environment variables',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.4.2',
    text: 'Consider external secret storage',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.5.1',
    text: 'Configure Image Provenance using ImagePolicyWebhook admission controller',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.7.1',
    text: 'Create administrative boundaries between resources using namespaces',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.7.2',
    text: 'Ensure that the seccomp profile is set to docker/default in your Pod definitions',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.7.3',
    text: 'Apply SecurityContext to your Pods and Containers',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
  {
    id: '5.7.4',
    text: 'The default namespace should not be used',
    automated: false,
    type: 'manual',
    scored: false,
    target: 'policies',
    multi: false,
    reads: {
      kind: 'none',
    },
    tests: null,
  },
];
