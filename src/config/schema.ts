/**
 * The configuration file (/etc/k3s-hostprep/config.yaml): its shape, its defaults and its
 * validation, declared once in configSpec; the Config type is inferred from it. Pure: loading
 * lives in load.ts.
 */
import { BENCHMARK_NAMES } from '../k3s/benchmarks/names.js';
import { AUDIT_MINIMUMS } from '../k3s/audit-retention.js';
import { K3S_COMPONENTS } from '../k3s/components.js';
import { weakensKubelet } from '../k3s/kubelet-sysctls.js';
import { isVersion, parseK3sVersion } from '../k3s/version.js';
import { normalizeKey } from '../sysctl/conf.js';
import { SYSCTL_KEY, extraSysctlProblem } from '../sysctl/extra.js';
import { type Infer, spec, validate, withDefaults } from './spec.js';

export const ROLES = ['server', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type AuditLevel = (typeof AUDIT_LEVELS)[number];

/** Where a textfile-collector file may go: the collector directories distributions use, and ours. */
export const METRICS_DIRS = ['/var/lib/node_exporter', '/var/lib/prometheus', '/run/node_exporter', '/var/lib/k3s-hostprep'] as const;

const stringList = spec.array(spec.string());
const stages = spec.array(spec.string({ enum: ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] }));
const mapping = spec.check<Record<string, unknown>>((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? null : 'expected a mapping'));

/** audit.k8s.io/v1 Policy, field by field (k8s.io/apiserver/pkg/apis/audit/v1/types.go). */
export const auditPolicySpec = spec.defaulted(
  spec.object({
    apiVersion: spec.string({ enum: ['audit.k8s.io/v1'], required: true }),
    kind: spec.string({ enum: ['Policy'], required: true }),
    metadata: mapping,
    omitStages: stages,
    omitManagedFields: spec.bool(),
    rules: spec.array(
      spec.object({
        level: spec.string({ enum: AUDIT_LEVELS, required: true }),
        users: stringList,
        userGroups: stringList,
        verbs: stringList,
        resources: spec.array(spec.object({ group: spec.string(), resources: stringList, resourceNames: stringList })),
        namespaces: stringList,
        nonResourceURLs: stringList,
        omitStages: stages,
        omitManagedFields: spec.bool(),
      }),
      { minItems: 1, required: true },
    ),
  }),
  // The hardening guide's starter policy: log request metadata for everything.
  { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] },
);
export type AuditPolicy = Infer<typeof auditPolicySpec>;

/** A Kubernetes namespace name: an RFC 1123 DNS label. */
export const namespaceSpec = spec.string({
  pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  patternText: 'a namespace name (RFC 1123 label: lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit)',
});

/** eventratelimit.admission.k8s.io/v1alpha1 Configuration: upstream rejects an empty list and non-positive rates. */
export const eventRateLimitSpec = spec.object({
  limits: spec.array(
    spec.object({
      type: spec.string({ enum: ['Server', 'Namespace', 'User', 'SourceAndObject'], required: true }),
      qps: spec.int({ min: 1, required: true }),
      burst: spec.int({ min: 1, required: true }),
      cacheSize: spec.int({ min: 1 }),
    }),
    { minItems: 1, required: true },
  ),
});
export type EventRateLimitLimit = Infer<typeof eventRateLimitSpec>['limits'][number];

/**
 * Retention at least the benchmark's minimum, which is also the default. The check's id differs
 * between benchmarks (1.2.20 in k3s-cis-1.24, 1.2.17 in k3s-cis-1.9) and the configuration is read
 * before the benchmark is chosen: the message names the flag.
 */
const retention = (key: keyof typeof AUDIT_MINIMUMS, flag: string) =>
  spec.int({ min: AUDIT_MINIMUMS[key], why: `kube-bench's minimum for --${flag}`, default: AUDIT_MINIMUMS[key] });

/** Extra kernel parameters: a sysctl key and an integer or one-line value; none may weaken the six. Kept by normalised key, as text. */
const sysctlSpec = spec.map({
  keyPattern: SYSCTL_KEY,
  keyText: 'a sysctl key such as net.ipv4.ip_forward (no globs)',
  values: spec.check((v) =>
    (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.trim() !== '' && !/[\n\r#;=]/.test(v))
      ? null
      : `expected an integer or a one-line value, got ${v === null ? 'null' : typeof v === 'object' ? (Array.isArray(v) ? 'a list' : 'a mapping') : JSON.stringify(v)}`,
  ),
  entry: (key, value) => weakensKubelet(normalizeKey(key), value) ?? extraSysctlProblem(normalizeKey(key), String(value).trim()),
  normalize: (key, value): [string, string] => [normalizeKey(key), String(value).trim()],
  default: {},
});

const namespaceList = (fallback: string[]) => spec.array(namespaceSpec, { unique: true, default: fallback });

export const configSpec = spec.object({
  /** Default: inferred from the installed K3s unit. */
  role: spec.string({ enum: ROLES }),
  /** Extra kernel parameters written after the six into 90-kubelet.conf, by normalised key. */
  sysctl: sysctlSpec,
  audit: spec.object(
    {
      policy: auditPolicySpec,
      /** --audit-log-maxage, days. */
      logMaxAge: retention('logMaxAge', 'audit-log-maxage'),
      /** --audit-log-maxbackup, files. */
      logMaxBackup: retention('logMaxBackup', 'audit-log-maxbackup'),
      /** --audit-log-maxsize, MB. */
      logMaxSize: retention('logMaxSize', 'audit-log-maxsize'),
    },
    { filled: true },
  ),
  /** The K3s version to prepare for; else the installed binary, INSTALL_K3S_VERSION, the newest line. */
  k3sVersion: spec.check<string>((v) => {
    // YAML reads an unquoted 1.28 as a number (and 1.30 as 1.3): say how to write it.
    if (typeof v === 'number')
      return `expected a string, got number ${v}: quote it, as in k3sVersion: "v${String(v)}"${/\.\d$/.test(String(v)) ? ' (YAML has already dropped a trailing zero: 1.30 reads as 1.3)' : ''}`;
    if (typeof v !== 'string') return 'expected a string such as "v1.28.5+k3s1"';
    const p = parseK3sVersion(v);
    return isVersion(p) ? null : p.error;
  }),
  /** Rancher owns K3s' flags and pod security (also inferred from config.yaml.d/50-rancher.yaml). */
  rancherManaged: spec.bool({ default: false }),
  /** Packaged components K3s is told to leave out (as its --disable); their allow policies are left out too. */
  disable: spec.array(spec.string({ enum: K3S_COMPONENTS }), { unique: true, default: [] }),
  /** Namespaces that get the intra-namespace policy. */
  networkPolicy: spec.object({ namespaces: namespaceList(['kube-system', 'default', 'kube-public']) }, { filled: true }),
  /** Namespaces exempt from Pod Security admission, besides kube-system. */
  podSecurity: spec.object({ exemptNamespaces: namespaceList([]) }, { filled: true }),
  /**
   * EventRateLimit admission, as the guide's tab enables it, with this configuration in psa.yaml;
   * false switches it off. Default: the Kubernetes documentation's server-wide example.
   */
  eventRateLimit: spec.offOr(eventRateLimitSpec, { default: { limits: [{ type: 'Server' as const, qps: 5000, burst: 20000 }] } }),
  /** kube-controller-manager --terminated-pod-gc-threshold. */
  terminatedPodGcThreshold: spec.int({ min: 1, max: 1_000_000, default: 10 }),
  /** The kube-bench benchmark to judge with; default: kube-bench's choice for the K3s line. */
  benchmark: spec.string({ enum: BENCHMARK_NAMES }),
  /** Admission plugins the guide leaves to the operator (unscored checks that warn without them). */
  admission: spec.object({ alwaysPullImages: spec.bool({ default: false }), denyServiceExternalIPs: spec.bool({ default: false }) }, { filled: true }),
  kubelet: spec.object(
    {
      /** kubelet --tls-cipher-suites with the guide's list (kube-bench 4.2.12). */
      tlsCipherSuites: spec.bool({ default: true }),
      /** kubelet --pod-max-pids (kube-bench 4.2.13). */
      podMaxPids: spec.int({ min: 1, max: 4_194_304 }),
    },
    { filled: true },
  ),
  metrics: spec.object(
    {
      /** node_exporter textfile-collector file written after every check, apply and watch cycle. */
      textfilePath: spec.path({
        allowed: METRICS_DIRS,
        // node_exporter reads only *.prom; anything else would be silently ignored.
        check: (v) =>
          /\/[^/]+\.prom$/.test(v) && !/\/\.[^/]*$/.test(v)
            ? null
            : `expected a file name ending in .prom (node_exporter reads no other), got ${JSON.stringify(v)}`,
      }),
    },
    { filled: true },
  ),
  watch: spec.object(
    {
      /** install installs and enables k3s-hostprep-watch.service. */
      enabled: spec.bool({ default: false }),
      /** Seconds between verification cycles when no file event comes first. */
      interval: spec.int({ min: 1, max: 86400, why: 'seconds between verification cycles', default: 60 }),
      /** Re-apply a control that drifted (only that control). */
      remediate: spec.bool({ default: false }),
    },
    { filled: true },
  ),
});

/** The configuration with defaults filled in, and where it came from ("(defaults)" when no file was read). */
export type Config = Infer<typeof configSpec> & { source: string };

/** The problems of a raw configuration value, each naming its key; empty when it is valid. */
export function configProblems(raw: unknown): string[] {
  return validate(configSpec, raw, '');
}

/** A validated configuration value with its defaults filled in. */
export function toConfig(raw: unknown, source: string): Config {
  return { source, ...withDefaults(configSpec, raw) };
}
