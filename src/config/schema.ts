/**
 * The configuration file (/etc/k3s-hostprep/config.yaml): its shape, its defaults and its
 * validation. Pure: loading lives in load.ts.
 */
import type { Spec } from './spec.js';
import { normalizeKey } from '../sysctl/conf.js';
import { weakensKubelet } from '../controls/kubelet-sysctls.js';

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

export interface Config {
  /** Where the configuration came from, for messages; "(defaults)" when no file was read. */
  source: string;
  role?: Role;
  /** Extra kernel parameters written after the six into 90-kubelet.conf, by normalised key. */
  sysctl: Record<string, string>;
  audit: {
    policy: AuditPolicy;
  };
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

/** Extra kernel parameters: a sysctl key and an integer or one-line value; none may weaken the six. */
const sysctlSpec: Spec = {
  type: 'map',
  keyPattern: /^[A-Za-z0-9_-]+([./][A-Za-z0-9_:@+-]+)+$/,
  keyText: 'a sysctl key such as net.ipv4.ip_forward (no globs)',
  values: {
    type: 'any',
    check: (v) =>
      (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.trim() !== '' && !/[\n\r#;=]/.test(v))
        ? null
        : `expected an integer or a one-line value, got ${v === null ? 'null' : typeof v === 'object' ? (Array.isArray(v) ? 'a list' : 'a mapping') : JSON.stringify(v)}`,
  },
  entry: (key, value) => weakensKubelet(normalizeKey(key), value),
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
      },
    },
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
    },
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
