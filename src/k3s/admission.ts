/**
 * Validates an AdmissionConfiguration the way the API server would at start-up, so the tests can
 * hold psa.yaml to what kube-apiserver accepts (k8s.io/apiserver/pkg/admission/config.go,
 * k8s.io/pod-security-admission/admission/api/validation, the EventRateLimit plugin's
 * validation). check uses it on the admission configuration file K3s will pass, whoever wrote it:
 * a file the API server would refuse means K3s does not start. Pure.
 */
const LEVELS = ['privileged', 'baseline', 'restricted'];
const LIMIT_TYPES = ['Server', 'Namespace', 'User', 'SourceAndObject'];

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[], at: string, out: string[]): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) out.push(`${at}.${k}: unknown field`);
}

/**
 * Validates an AdmissionConfiguration the way the API server would at start-up: the kinds and
 * versions, PodSecurity levels and versions ("latest" or "v1.N"), EventRateLimit limits
 * (non-empty, known types, positive qps and burst), and no field the kinds do not have.
 * Returns the problems.
 */
export function validateAdmissionConfiguration(value: unknown): string[] {
  const out: string[] = [];
  if (!isMap(value)) return ['expected a mapping'];
  onlyKeys(value, ['apiVersion', 'kind', 'plugins'], '', out);
  if (value.apiVersion !== 'apiserver.config.k8s.io/v1') out.push(`apiVersion: expected apiserver.config.k8s.io/v1, got ${String(value.apiVersion)}`);
  if (value.kind !== 'AdmissionConfiguration') out.push(`kind: expected AdmissionConfiguration, got ${String(value.kind)}`);
  if (!Array.isArray(value.plugins)) return [...out, 'plugins: expected a list'];
  const names = new Set<string>();
  for (const [i, plugin] of (value.plugins as unknown[]).entries()) {
    const at = `plugins[${i}]`;
    if (!isMap(plugin)) {
      out.push(`${at}: expected a mapping`);
      continue;
    }
    onlyKeys(plugin, ['name', 'path', 'configuration'], at, out);
    const name = plugin.name;
    if (typeof name !== 'string' || name === '') {
      out.push(`${at}.name: required`);
      continue;
    }
    if (names.has(name)) out.push(`${at}.name: ${name} is configured twice`);
    names.add(name);
    const c = plugin.configuration;
    if (!isMap(c)) {
      out.push(`${at}.configuration: expected a mapping`);
      continue;
    }
    if (name === 'PodSecurity') {
      onlyKeys(c, ['apiVersion', 'kind', 'defaults', 'exemptions'], `${at}.configuration`, out);
      if (c.apiVersion !== 'pod-security.admission.config.k8s.io/v1' && c.apiVersion !== 'pod-security.admission.config.k8s.io/v1beta1')
        out.push(`${at}.configuration.apiVersion: unknown ${String(c.apiVersion)}`);
      if (c.kind !== 'PodSecurityConfiguration') out.push(`${at}.configuration.kind: expected PodSecurityConfiguration`);
      const d = c.defaults;
      if (!isMap(d)) out.push(`${at}.configuration.defaults: expected a mapping`);
      else {
        onlyKeys(d, ['enforce', 'enforce-version', 'audit', 'audit-version', 'warn', 'warn-version'], `${at}.configuration.defaults`, out);
        for (const mode of ['enforce', 'audit', 'warn']) {
          if (d[mode] !== undefined && !LEVELS.includes(String(d[mode])))
            out.push(`${at}.configuration.defaults.${mode}: expected one of ${LEVELS.join(', ')}`);
          const v = d[`${mode}-version`];
          if (v !== undefined && !(v === 'latest' || /^v1\.\d+$/.test(String(v))))
            out.push(`${at}.configuration.defaults.${mode}-version: expected latest or v1.N`);
        }
      }
      const e = c.exemptions;
      if (e !== undefined) {
        if (!isMap(e)) out.push(`${at}.configuration.exemptions: expected a mapping`);
        else {
          onlyKeys(e, ['usernames', 'runtimeClasses', 'namespaces'], `${at}.configuration.exemptions`, out);
          for (const k of ['usernames', 'runtimeClasses', 'namespaces']) {
            const list = e[k];
            if (list !== undefined && !(Array.isArray(list) && list.every((x) => typeof x === 'string' && x !== '')))
              out.push(`${at}.configuration.exemptions.${k}: expected a list of names`);
          }
        }
      }
    } else if (name === 'EventRateLimit') {
      onlyKeys(c, ['apiVersion', 'kind', 'limits'], `${at}.configuration`, out);
      if (c.apiVersion !== 'eventratelimit.admission.k8s.io/v1alpha1')
        out.push(`${at}.configuration.apiVersion: expected eventratelimit.admission.k8s.io/v1alpha1`);
      if (c.kind !== 'Configuration') out.push(`${at}.configuration.kind: expected Configuration`);
      if (!Array.isArray(c.limits) || c.limits.length === 0) out.push(`${at}.configuration.limits: must not be empty (the API server refuses to start)`);
      else {
        for (const [j, l] of (c.limits as unknown[]).entries()) {
          const la = `${at}.configuration.limits[${j}]`;
          if (!isMap(l)) {
            out.push(`${la}: expected a mapping`);
            continue;
          }
          onlyKeys(l, ['type', 'qps', 'burst', 'cacheSize'], la, out);
          if (!LIMIT_TYPES.includes(String(l.type))) out.push(`${la}.type: expected one of ${LIMIT_TYPES.join(', ')}`);
          for (const k of ['qps', 'burst']) if (!(Number.isInteger(l[k]) && (l[k] as number) > 0)) out.push(`${la}.${k}: expected a positive integer`);
          if (l.cacheSize !== undefined && !(Number.isInteger(l.cacheSize) && (l.cacheSize as number) > 0))
            out.push(`${la}.cacheSize: expected a positive integer`);
        }
      }
    }
  }
  return out;
}
