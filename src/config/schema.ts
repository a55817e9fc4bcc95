/**
 * The configuration file (/etc/k3s-hostprep/config.yaml): its shape, its defaults and its
 * validation. Pure: loading lives in load.ts.
 */
import { isVersion, parseK3sVersion } from '../k3s/version.js';
import type { Spec } from './spec.js';
import { normalizeKey } from '../sysctl/conf.js';
import { weakensKubelet } from '../controls/kubelet-sysctls.js';
import { SYSCTL_KEY, extraSysctlProblem } from '../sysctl/extra.js';

export type Role = 'server' | 'agent';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';

export interface AuditPolicy {
  apiVersion: 'audit.k8s.io/v1';
  kind: 'Policy';
  metadata?: Record<string, unknown>;
  omitStages?: string[];
  omitManagedFields?: boolean;
  rules: Array<Record<string, unknown> & { level: AuditLevel }>;
}

/** Components K3s can leave out (k3s server --disable). */
export const K3S_COMPONENTS = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'] as const;
export type K3sComponent = (typeof K3S_COMPONENTS)[number];

/** One limit of the EventRateLimit admission plugin (eventratelimit.admission.k8s.io/v1alpha1). */
export interface EventRateLimitLimit {
  type: 'Server' | 'Namespace' | 'User' | 'SourceAndObject';
  qps: number;
  burst: number;
  cacheSize?: number;
}

/** The benchmark's minimums for audit log retention (CIS 1.2.20-1.2.22, k3s-cis-1.24). */
export const AUDIT_MINIMUMS = { logMaxAge: 30, logMaxBackup: 10, logMaxSize: 100 } as const;

export interface Config {
  /** Where the configuration came from, for messages; "(defaults)" when no file was read. */
  source: string;
  role?: Role;
  /** Extra kernel parameters written after the six into 90-kubelet.conf, by normalised key. */
  sysctl: Record<string, string>;
  audit: {
    policy: AuditPolicy;
    /** --audit-log-maxage, days (at least 30). */
    logMaxAge: number;
    /** --audit-log-maxbackup, files (at least 10). */
    logMaxBackup: number;
    /** --audit-log-maxsize, MB (at least 100). */
    logMaxSize: number;
  };
  /** The K3s version to prepare for; else the installed binary, INSTALL_K3S_VERSION, the newest line. */
  k3sVersion?: string;
  /** Rancher owns K3s' flags and pod security (also inferred from config.yaml.d/50-rancher.yaml). */
  rancherManaged: boolean;
  /** Packaged components K3s is told to leave out (as its --disable); their allow policies are left out too. */
  disable: K3sComponent[];
  networkPolicy: {
    /** Namespaces that get the intra-namespace policy. */
    namespaces: string[];
  };
  podSecurity: {
    /** Namespaces exempt from Pod Security admission, besides kube-system. */
    exemptNamespaces: string[];
  };
  /** EventRateLimit admission: enabled, with this configuration, when set. */
  eventRateLimit?: { limits: EventRateLimitLimit[] };
  /** kube-controller-manager --terminated-pod-gc-threshold. */
  terminatedPodGcThreshold: number;
  metrics: {
    /** node_exporter textfile-collector file written after every check, apply and watch cycle. */
    textfilePath?: string;
  };
  watch: {
    /** install installs and enables k3s-hostprep-watch.service. */
    enabled: boolean;
    /** Seconds between verification cycles when no file event comes first. */
    interval: number;
    /** Re-apply a control that drifted (only that control). */
    remediate: boolean;
  };
}

export const DEFAULT_NETWORK_POLICY_NAMESPACES = ['kube-system', 'default', 'kube-public'];
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 10;

/** Where a textfile-collector file may go: the collector directories distributions use, and ours. */
export const METRICS_DIRS = ['/var/lib/node_exporter', '/var/lib/prometheus', '/run/node_exporter', '/var/lib/k3s-hostprep'] as const;

export const DEFAULT_WATCH_INTERVAL = 60;

/** The hardening guide's starter policy: log request metadata for everything. */
export const DEFAULT_AUDIT_POLICY: AuditPolicy = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  rules: [{ level: 'Metadata' }],
};

const stringList: Spec = { type: 'array', items: { type: 'string' } };
const stages: Spec = { type: 'array', items: { type: 'string', enum: ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] } };

/** audit.k8s.io/v1 Policy, field by field (k8s.io/apiserver/pkg/apis/audit/v1/types.go). */
export const auditPolicySpec: Spec = {
  type: 'object',
  required: ['apiVersion', 'kind', 'rules'],
  fields: {
    apiVersion: { type: 'string', enum: ['audit.k8s.io/v1'] },
    kind: { type: 'string', enum: ['Policy'] },
    metadata: { type: 'any', check: (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? null : 'expected a mapping') },
    omitStages: stages,
    omitManagedFields: { type: 'bool' },
    rules: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['level'],
        fields: {
          level: { type: 'string', enum: ['None', 'Metadata', 'Request', 'RequestResponse'] },
          users: stringList,
          userGroups: stringList,
          verbs: stringList,
          resources: {
            type: 'array',
            items: { type: 'object', fields: { group: { type: 'string' }, resources: stringList, resourceNames: stringList } },
          },
          namespaces: stringList,
          nonResourceURLs: stringList,
          omitStages: stages,
          omitManagedFields: { type: 'bool' },
        },
      },
    },
  },
};

/** A Kubernetes namespace name: an RFC 1123 DNS label. */
export const namespaceSpec: Spec = {
  type: 'string',
  pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  patternText: 'a namespace name (RFC 1123 label: lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit)',
};

const namespaceList: Spec = { type: 'array', items: namespaceSpec, unique: true };

/** eventratelimit.admission.k8s.io/v1alpha1 Configuration: upstream rejects an empty list and non-positive rates. */
export const eventRateLimitSpec: Spec = {
  type: 'object',
  required: ['limits'],
  fields: {
    limits: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['type', 'qps', 'burst'],
        fields: {
          type: { type: 'string', enum: ['Server', 'Namespace', 'User', 'SourceAndObject'] },
          qps: { type: 'int', min: 1 },
          burst: { type: 'int', min: 1 },
          cacheSize: { type: 'int', min: 1 },
        },
      },
    },
  },
};

const retention = (key: keyof typeof AUDIT_MINIMUMS, flag: string, cis: string): Spec => ({
  type: 'int',
  min: AUDIT_MINIMUMS[key],
  why: `the CIS benchmark's minimum for --${flag}, check ${cis}`,
});

/** Extra kernel parameters: a sysctl key and an integer or one-line value; none may weaken the six. */
const sysctlSpec: Spec = {
  type: 'map',
  keyPattern: SYSCTL_KEY,
  keyText: 'a sysctl key such as net.ipv4.ip_forward (no globs)',
  values: {
    type: 'any',
    check: (v) =>
      (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.trim() !== '' && !/[\n\r#;=]/.test(v))
        ? null
        : `expected an integer or a one-line value, got ${v === null ? 'null' : typeof v === 'object' ? (Array.isArray(v) ? 'a list' : 'a mapping') : JSON.stringify(v)}`,
  },
  entry: (key, value) => weakensKubelet(normalizeKey(key), value) ?? extraSysctlProblem(normalizeKey(key), String(value).trim()),
};

export const configSpec: Spec = {
  type: 'object',
  fields: {
    role: { type: 'string', enum: ['server', 'agent'] },
    sysctl: sysctlSpec,
    audit: {
      type: 'object',
      fields: {
        policy: auditPolicySpec,
        logMaxAge: retention('logMaxAge', 'audit-log-maxage', '1.2.20'),
        logMaxBackup: retention('logMaxBackup', 'audit-log-maxbackup', '1.2.21'),
        logMaxSize: retention('logMaxSize', 'audit-log-maxsize', '1.2.22'),
      },
    },
    k3sVersion: { type: 'string', check: (v) => { const p = parseK3sVersion(v); return isVersion(p) ? null : p.error; } },
    rancherManaged: { type: 'bool' },
    disable: { type: 'array', items: { type: 'string', enum: K3S_COMPONENTS }, unique: true },
    networkPolicy: { type: 'object', fields: { namespaces: namespaceList } },
    podSecurity: { type: 'object', fields: { exemptNamespaces: namespaceList } },
    eventRateLimit: eventRateLimitSpec,
    terminatedPodGcThreshold: { type: 'int', min: 1, max: 1_000_000 },
    metrics: {
      type: 'object',
      fields: {
        textfilePath: {
          type: 'path',
          allowed: METRICS_DIRS,
          // node_exporter reads only *.prom; anything else would be silently ignored.
          check: (v) => (/\/[^/]+\.prom$/.test(v) && !/\/\.[^/]*$/.test(v) ? null : `expected a file name ending in .prom (node_exporter reads no other), got ${JSON.stringify(v)}`),
        },
      },
    },
    watch: {
      type: 'object',
      fields: {
        enabled: { type: 'bool' },
        interval: { type: 'int', min: 1, max: 86400, why: 'seconds between verification cycles' },
        remediate: { type: 'bool' },
      },
    },
  },
};

/** Fills defaults into a validated configuration object. */
export function withDefaults(raw: Record<string, any>, source: string): Config {
  return {
    source,
    role: raw.role,
    sysctl: Object.fromEntries(Object.entries((raw.sysctl ?? {}) as Record<string, unknown>).map(([k, v]) => [normalizeKey(k), String(v).trim()])),
    audit: {
      policy: raw.audit?.policy ?? DEFAULT_AUDIT_POLICY,
      logMaxAge: raw.audit?.logMaxAge ?? AUDIT_MINIMUMS.logMaxAge,
      logMaxBackup: raw.audit?.logMaxBackup ?? AUDIT_MINIMUMS.logMaxBackup,
      logMaxSize: raw.audit?.logMaxSize ?? AUDIT_MINIMUMS.logMaxSize,
    },
    ...(raw.k3sVersion !== undefined ? { k3sVersion: raw.k3sVersion } : {}),
    rancherManaged: raw.rancherManaged ?? false,
    disable: raw.disable ?? [],
    networkPolicy: { namespaces: raw.networkPolicy?.namespaces ?? [...DEFAULT_NETWORK_POLICY_NAMESPACES] },
    podSecurity: { exemptNamespaces: raw.podSecurity?.exemptNamespaces ?? [] },
    ...(raw.eventRateLimit !== undefined ? { eventRateLimit: raw.eventRateLimit } : {}),
    terminatedPodGcThreshold: raw.terminatedPodGcThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD,
    metrics: {
      ...(raw.metrics?.textfilePath !== undefined ? { textfilePath: raw.metrics.textfilePath as string } : {}),
    },
    watch: {
      enabled: raw.watch?.enabled ?? false,
      interval: raw.watch?.interval ?? DEFAULT_WATCH_INTERVAL,
      remediate: raw.watch?.remediate ?? false,
    },
  };
}
