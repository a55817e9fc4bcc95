/**
 * Every check of the selected kube-bench benchmark, one finding each under the benchmark's own
 * id, judged the way kube-bench judges it (src/k3s/kube-bench.ts) on what it will read:
 *
 * - flags: the "Running <component>" lines K3s will log, predicted from its defaults for the
 *   version, the merged configuration and the unit's flags; when K3s runs, also the lines it did
 *   log (what a scan reads now). The worse verdict counts, and a difference means K3s runs with
 *   old flags: restart it;
 * - files (1.1.x, 4.1.x): their mode and owner once K3s has created them; before, "not created
 *   yet" with the mode K3s will use;
 * - cluster objects (5.1.5): kubectl's answer through /etc/rancher/k3s/k3s.yaml when the API
 *   answers, else not judged, with the reason;
 * - checks the datastore decides (etcd TLS flags, etcd files): as kube-bench would, a warning
 *   naming the fix rather than a gate on K3s' start.
 *
 * apply does the one thing a row needs after K3s has run: server/tls/*.crt to 0600 (1.1.20).
 */
import { parse as parseYaml } from 'yaml';
import type { Host } from '../host/host.js';
import { benchmarkOf } from '../k3s/benchmarks/select.js';
import { benchmarkRows } from '../k3s/benchmarks/index.js';
import { mergeK3sConfig, type MergedConfig } from '../k3s/config-files.js';
import { componentArgs, componentsOf, datastoreOf, runningLine, type Datastore } from '../k3s/k3s-args.js';
import {
  auditOutput,
  describeTests,
  judgeRow,
  type AuditOutput,
  type FileFact,
  type KubeBenchState,
  type Observation,
  type Verdict,
} from '../k3s/kube-bench.js';
import { k3sVersionOf, orderedSources, rancherManagement } from '../k3s/node.js';
import type { BenchRow, Component } from '../k3s/rows.js';
import { NEWEST_LINE, parseK3sVersion, type K3sVersion } from '../k3s/version.js';
import { rowNote } from '../k3s/writers.js';
import { k3sSourcesOf } from './k3s-config.js';
import type { ApplyOutcome, Change, Context, Control, ControlPlan, Finding, Status } from './types.js';
import { describeError } from '../errors.js';

export const SERVER_TLS_DIR = '/var/lib/rancher/k3s/server/tls';

function owner(uid: number, gid: number): string {
  return `${uid === 0 ? 'root' : String(uid)}:${gid === 0 ? 'root' : String(gid)}`;
}

/** Files at a path, a "dir/*.ext" glob or "dir/*", through the Host (symlinks are not followed: kube-bench's stat is). */
export function filesAt(host: Host, path: string, recursive = false): FileFact[] | null {
  const star = path.lastIndexOf('/*');
  if (star < 0) {
    const st = host.stat(path);
    return st === null ? null : [{ path, mode: st.mode & 0o7777, owner: owner(st.uid, st.gid) }];
  }
  const dir = path.slice(0, star);
  const suffix = path.slice(star + 2);
  const names = host.readDir(dir);
  if (names === null) return null;
  const out: FileFact[] = [];
  for (const name of [...names].sort()) {
    if (!name.endsWith(suffix)) continue;
    const p = `${dir}/${name}`;
    const st = host.stat(p);
    if (st === null) continue;
    if (st.isDirectory()) {
      if (recursive) out.push(...(filesAt(host, `${p}/*`, true) ?? []));
      continue;
    }
    out.push({ path: p, mode: st.mode & 0o7777, owner: owner(st.uid, st.gid) });
  }
  return out;
}

/** What K3s has logged and what the cluster said, gathered before verify (asynchronously) by the caller. */
export interface Observed {
  /** Whether k3s.service / k3s-agent.service is active now. */
  active: boolean;
  /** "Running <component>" journal lines by unit, in order; empty when K3s never ran here. */
  journal: Record<string, string[]>;
  managedEtcd: boolean;
  /** kubectl answers by objects ("serviceaccounts"): the audit's text, or null with why. */
  cluster: Record<string, string> | null;
  /** Why the cluster was not asked, when it was not. */
  clusterWhy: string;
}

const COMPONENT_OF = (line: string): Component | null => {
  const m = /Running (kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy) /.exec(line);
  return m ? (m[1] as Component) : null;
};

function journalObservation(host: Host, observed: Observed): Observation {
  return {
    lines(component, units) {
      return units.flatMap((u) => observed.journal[u] ?? []).filter((l) => COMPONENT_OF(l) === component);
    },
    managedEtcd: observed.managedEtcd,
    running: observed.active,
    files: (path, recursive) => filesAt(host, path, recursive),
    text: (path) => safeText(host, path),
    cluster: (objects) => observed.cluster?.[objects] ?? null,
  };
}

function safeText(host: Host, path: string): string | null {
  try {
    return host.readText(path);
  } catch {
    return null;
  }
}

interface Prediction {
  obs: Observation;
  datastore: Datastore;
  problems: string[];
  merged: MergedConfig;
}

const ARG_KEY: Partial<Record<Component, string>> = {
  'kube-apiserver': 'kube-apiserver-arg',
  'kube-controller-manager': 'kube-controller-manager-arg',
  'kube-scheduler': 'kube-scheduler-arg',
  kubelet: 'kubelet-arg',
  'kube-proxy': 'kube-proxy-arg',
};

/** K3s keys that become a component flag without going through "<component>-arg". */
const K3S_KEY_OF: Record<string, string> = {
  'kubelet --protect-kernel-defaults': 'protect-kernel-defaults',
  'kube-apiserver --encryption-provider-config': 'secrets-encryption',
};

/** Where the flags a row tests get their values: "--flag=value (file)", in K3s' order. */
export function flagSources(merged: MergedConfig, row: BenchRow): string[] {
  if (row.reads.kind !== 'line') return [];
  const component = row.reads.component;
  const out: string[] = [];
  for (const flag of new Set((row.tests?.items ?? []).map((t) => t.flag).filter((f): f is string => f?.startsWith('--') === true))) {
    const name = flag.slice(2);
    const key = ARG_KEY[component];
    for (const item of (key ? merged.get(key)?.items : undefined) ?? []) {
      const text = item.value.replace(/^--/, '');
      const eq = text.indexOf('=');
      if ((eq < 0 ? text : text.slice(0, eq)).replace(/[+-]+$/, '') === name) out.push(`--${text} (${item.file})`);
    }
    const k3sKey = K3S_KEY_OF[`${component} ${flag}`];
    for (const item of (k3sKey ? merged.get(k3sKey)?.items : undefined) ?? []) out.push(`${k3sKey}: ${item.value} (${item.file})`);
  }
  return out;
}

/** The lines K3s will log at its next start, from the files (and unit flags) it reads. */
function predicted(ctx: Context, observed: Observed | undefined, ranBefore: boolean): Prediction {
  const { version } = k3sVersionOf(ctx);
  const sources = k3sSourcesOf(ctx);
  const problems = sources.problems;
  const merged = mergeK3sConfig(orderedSources(sources));
  const lines = new Map<Component, string>();
  for (const c of componentsOf(ctx.role)) lines.set(c, runningLine(c, componentArgs(c, version, merged)));
  const datastore = datastoreOf(merged);
  const unitName = ctx.role === 'server' ? 'k3s' : 'k3s-agent';
  return {
    datastore,
    merged,
    problems: problems.map((p) => `${p.path} ${p.message}`),
    obs: {
      lines(component, units) {
        const line = lines.get(component);
        return line !== undefined && units.includes(unitName) ? [line] : [];
      },
      managedEtcd: ctx.role === 'server' && datastore === 'etcd',
      running: true,
      files: (path, recursive) => filesAt(ctx.host, path, recursive),
      text: (path) => {
        if (path.endsWith('/db/etcd/config')) return datastore === 'etcd' && ctx.role === 'server' ? ETCD_CONFIG : null;
        const text = safeText(ctx.host, path);
        if (text !== null || ranBefore) return text;
        // Before K3s' first start: what K3s will create.
        if (path.endsWith('/agent/kubelet.kubeconfig')) return '{"apiVersion":"v1","kind":"Config"}';
        if (path.endsWith('/cred/encryption-config.json'))
          return '{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{}},{"identity":{}}]}]}';
        return null;
      },
      cluster: (objects) => observed?.cluster?.[objects] ?? null,
    },
  };
}

/** What K3s writes into its embedded etcd's configuration (pkg/etcd): the fields kube-bench's 2.x read. */
const ETCD_CONFIG = [
  'client-transport-security:',
  '  cert-file: /var/lib/rancher/k3s/server/tls/etcd/server-client.crt',
  '  client-cert-auth: true',
  '  key-file: /var/lib/rancher/k3s/server/tls/etcd/server-client.key',
  '  trusted-ca-file: /var/lib/rancher/k3s/server/tls/etcd/server-ca.crt',
  'peer-transport-security:',
  '  cert-file: /var/lib/rancher/k3s/server/tls/etcd/peer-server-client.crt',
  '  client-cert-auth: true',
  '  key-file: /var/lib/rancher/k3s/server/tls/etcd/peer-server-client.key',
  '  trusted-ca-file: /var/lib/rancher/k3s/server/tls/etcd/peer-ca.crt',
].join('\n');

/** The modes K3s creates its files with (pkg/daemons/control/deps, pkg/agent/config): for "not created yet". */
function createdMode(path: string): string {
  if (path.includes('/server/tls/') && path.endsWith('.crt'))
    return '0644 (K3s writes certificates with client-go WriteCert); k3s-hostprep tightens them to 0600 after K3s has started';
  if (path.includes('/cni/')) return '0600, root:root, created by the CNI plugin when the first pod starts';
  if (path.includes('/db/etcd')) return '0700, with embedded etcd only';
  return '0600, root:root';
}

const STATE_STATUS: Record<KubeBenchState, Status> = { PASS: 'pass', FAIL: 'fail', WARN: 'warn', INFO: 'skip' };

/** Checks the datastore decides: K3s passes etcd TLS flags and writes etcd's configuration only with etcd. */
function datastoreDecides(row: BenchRow): boolean {
  if (row.reads.kind === 'etcd-config' || row.reads.kind === 'etcd-dir-mode') return true;
  if (row.reads.kind === 'mode' && row.reads.path.includes('/db/etcd')) return true;
  return (
    row.reads.kind === 'line' &&
    row.reads.component === 'kube-apiserver' &&
    (row.tests?.items.some((t) => /--etcd-(cafile|certfile|keyfile)/.test(t.flag ?? '')) ?? false)
  );
}

function rowApplies(row: BenchRow, ctx: Context): boolean {
  return ctx.role === 'server' || row.target === 'node';
}

function worse(a: Verdict, b: Verdict): Verdict {
  const rank: Record<KubeBenchState, number> = { INFO: 0, PASS: 1, WARN: 2, FAIL: 3 };
  return rank[b.state] > rank[a.state] ? b : a;
}

function clip(text: string): string {
  const first = text.split('\n')[0] ?? '';
  const shown = first.length > 160 ? `${first.slice(0, 157)}...` : first;
  return text.includes('\n') ? `${shown} (+${text.split('\n').length - 1} lines)` : shown || '(empty)';
}

const parse = (t: string) => {
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return parseYaml(t) as unknown;
  }
};

/**
 * What fixes a failing flag check when apply cannot: a flag K3s' unit sets (apply never edits the
 * unit), or any flag on a Rancher-managed node (its cluster spec owns them).
 */
function fixOf(row: BenchRow, merged: MergedConfig, rancher: { managed: boolean; why: string }): string | undefined {
  if (row.reads.kind !== 'line') return undefined;
  const unit = flagSources(merged, row)
    .map((s) => /\((\/\S+\.(?:service|conf)) \(ExecStart\)\)$/.exec(s)?.[1])
    .find((u) => u !== undefined);
  if (unit) {
    const service = unit.replace(/\.d\/[^/]+\.conf$/, '');
    return `the value comes from ExecStart in ${unit}, which apply does not edit: change that flag there (or in a drop-in under ${service}.d that resets ExecStart=), then systemctl daemon-reload and restart K3s`;
  }
  if (rancher.managed) return `set it in the Rancher cluster spec (rkeConfig machineGlobalConfig / machineSelectorConfig): ${rancher.why}`;
  return undefined;
}

/**
 * What a row says whatever the host holds: the tests in words, and the note on the configuration
 * knob behind it. Made once per row and configuration (a reloaded configuration is a new object),
 * not once per cycle.
 */
interface RowWords {
  expected: string;
  note: string | null;
  /** A row kube-bench does not test (skip, manual): its whole verdict. */
  untested: { status: Status; reason: string } | null;
}

const ROW_WORDS = new WeakMap<object, WeakMap<BenchRow, RowWords>>();

function rowWords(row: BenchRow, ctx: Context): RowWords {
  let byRow = ROW_WORDS.get(ctx.config);
  if (!byRow) {
    byRow = new WeakMap();
    ROW_WORDS.set(ctx.config, byRow);
  }
  let words = byRow.get(row);
  if (!words) {
    const note = rowNote(row, ctx);
    let untested: RowWords['untested'] = null;
    if (row.type !== 'automated') {
      const v = judgeRow(row, { output: '', error: null }, parse);
      untested = { status: STATE_STATUS[v.state], reason: v.reason + (note ? ` ${note}` : '') };
    }
    words = { expected: row.type === 'automated' ? describeTests(row) : row.type, note, untested };
    byRow.set(row, words);
  }
  return words;
}

/** A row's finding, its fields in the report's order (an object literal: made for every row, every cycle). */
function rowFinding(row: BenchRow, expected: string, status: Status, actual: string, reason: string, fix?: string): Finding {
  const finding: Finding = { item: row.text, expected, cis: row.id, status, actual, reason };
  if (fix) finding.fix = fix;
  return finding;
}

/**
 * kube-bench's verdict on a row for an audit output: judgeRow is pure, and a watch cycle mostly
 * sees the same output as the cycle before, so the last verdict of each row is kept with the
 * output it was judged on and given again only for that very output (the same text, the same
 * error, the same configuration text), never for what merely looks unchanged.
 */
const LAST_VERDICT = new WeakMap<BenchRow, { output: string; error: string | null; config: string | undefined; verdict: Verdict; shown: string }>();

function verdictOf(row: BenchRow, audit: AuditOutput): { verdict: Verdict; shown: string } {
  const last = LAST_VERDICT.get(row);
  if (last && last.output === audit.output && last.error === audit.error && last.config === audit.config) return last;
  const verdict = judgeRow(row, audit, parse);
  const judged = { output: audit.output, error: audit.error, config: audit.config, verdict, shown: clip(verdict.actual) };
  LAST_VERDICT.set(row, judged);
  return judged;
}

/** One finding per check of the benchmark. */
export function judgeBenchmark(ctx: Context): Finding[] {
  const choice = benchmarkOf(ctx);
  const observed = ctx.observed;
  const ranBefore =
    (observed !== undefined && Object.values(observed.journal).some((l) => l.length > 0)) ||
    ctx.host.lstat('/var/lib/rancher/k3s/agent/kubelet.kubeconfig') !== null;
  const prediction = predicted(ctx, observed, ranBefore);
  const rancher = rancherManagement(ctx);
  const live = observed?.active === true && ranBefore ? journalObservation(ctx.host, observed) : null;
  const findings: Finding[] = [];
  const { version } = k3sVersionOf(ctx);
  const newest = parseK3sVersion(NEWEST_LINE) as K3sVersion;
  if (version.minor > newest.minor) {
    findings.push({
      item: 'K3s version',
      status: 'warn',
      expected: `${NEWEST_LINE} or older (the K3s lines whose default arguments k3s-hostprep knows)`,
      actual: version.text,
      reason: `K3s ${version.text} is newer than ${NEWEST_LINE}, the newest line k3s-hostprep knows: the flags K3s will run with are predicted from ${NEWEST_LINE}'s defaults, which it may have changed. Judge the running node too (check once K3s is up).`,
      cis: choice.name,
    });
  }
  if (prediction.problems.length > 0) {
    findings.push({
      item: 'K3s configuration',
      status: 'fail',
      expected: 'every file K3s reads parses',
      actual: prediction.problems.join('; '),
      reason: `the flags K3s will run with cannot be known: ${prediction.problems.join('; ')}`,
      cis: choice.name,
    });
  }
  for (const row of benchmarkRows(choice.name)) {
    if (!rowApplies(row, ctx)) continue;
    const { expected, note, untested } = rowWords(row, ctx);
    if (untested !== null) {
      findings.push(rowFinding(row, expected, untested.status, row.type, untested.reason));
      continue;
    }
    if (row.reads.kind === 'cluster') {
      const answer = (live ?? prediction.obs).cluster(row.reads.objects);
      if (answer === null) {
        findings.push(
          rowFinding(
            row,
            expected,
            'warn',
            'not judged',
            `not judged: ${observed?.clusterWhy || 'the Kubernetes API was not asked'}; kube-bench judges it on the cluster's ${row.reads.objects}.${note ? ` ${note}` : ''}`,
          ),
        );
        continue;
      }
    }
    if ((row.reads.kind === 'mode' || row.reads.kind === 'owner') && !ranBefore) {
      const files = prediction.obs.files(row.reads.path);
      if (files === null || files.length === 0) {
        findings.push(
          rowFinding(
            row,
            expected,
            'skip',
            'not created yet',
            `not created yet: K3s creates ${row.reads.path} at its first start, mode ${createdMode(row.reads.path)}.`,
          ),
        );
        continue;
      }
    }
    const { verdict: fromFiles, shown: fromFilesShown } = verdictOf(row, auditOutput(row, prediction.obs));
    let v = fromFiles;
    let stale = '';
    if (live) {
      const now = judgeRow(row, auditOutput(row, live), parse);
      if (now.state !== fromFiles.state && row.reads.kind === 'line') {
        stale = ` K3s runs with other flags than its files give (a scan now: ${now.state}; after a restart: ${fromFiles.state}): restart K3s.`;
      }
      v = worse(now, fromFiles);
    }
    let status = STATE_STATUS[v.state];
    let reason = v.reason === '' ? '' : `kube-bench ${v.state}: ${v.reason}.`;
    if (status === 'fail' && datastoreDecides(row)) {
      status = 'warn';
      reason = `kube-bench fails this scored check on the ${prediction.datastore === 'sqlite' ? 'default SQLite datastore' : `${prediction.datastore} datastore`}: K3s passes etcd's TLS flags and writes etcd's files only with etcd. Fix: cluster-init: true in K3s' configuration (embedded etcd; an existing SQLite server moves to it at its next start) or an external etcd with TLS.`;
    }
    if (status !== 'pass') {
      if (rancher.managed && row.reads.kind === 'line')
        reason = `${reason} Rancher manages K3s' flags here (${rancher.why}): fix it in the cluster spec (rkeConfig machineGlobalConfig / machineSelectorConfig; k3s-hostprep render rancher-cluster prints the hardened template).`;
      const sources = flagSources(prediction.merged, row);
      if (sources.length > 0) reason = `${reason} Set by: ${sources.join('; ')}.`;
      if (note) reason = `${reason} ${note}`.trim();
    }
    const fix = status === 'pass' ? undefined : fixOf(row, prediction.merged, rancher);
    findings.push(rowFinding(row, expected, status, v === fromFiles ? fromFilesShown : clip(v.actual), (reason + stale).trim(), fix));
  }
  return findings;
}

/** server/tls/*.crt that K3s created looser than 0600: regular files owned by root, never through a symlink. */
export function certChanges(host: Host): Change[] {
  const names = host.readDir(SERVER_TLS_DIR);
  if (names === null) return [];
  const changes: Change[] = [];
  for (const name of [...names].sort()) {
    if (!name.endsWith('.crt')) continue;
    const p = `${SERVER_TLS_DIR}/${name}`;
    const st = host.lstat(p);
    if (st === null || !st.isFile() || st.uid !== 0) continue;
    const mode = st.mode & 0o7777;
    if ((mode & 0o177) !== 0) changes.push({ kind: 'chmod', path: p, from: mode, to: mode & 0o600 });
  }
  return changes;
}

export const benchmark: Control = {
  id: 'kube-bench',
  title: 'Every check of the kube-bench benchmark for this K3s line, judged as kube-bench judges it',
  scored: true,
  roles: ['server', 'agent'],
  remediation: "See each check's reason; run k3s-hostprep apply, restart K3s after a flag changed, and k3s-hostprep service-accounts once the API answers.",
  watch: [SERVER_TLS_DIR],

  plan(ctx: Context): ControlPlan {
    return { changes: ctx.role === 'server' ? certChanges(ctx.host) : [], blocked: [] };
  },

  async apply(ctx: Context, plan: ControlPlan): Promise<ApplyOutcome> {
    const done: Change[] = [];
    const hostErrors: string[] = [];
    for (const change of plan.changes) {
      if (change.kind !== 'chmod') continue;
      try {
        ctx.host.chmod(change.path, change.to);
        done.push(change);
      } catch (error) {
        hostErrors.push(`chmod ${change.path}: ${describeError(error)}`);
      }
    }
    return { done, hostErrors, backups: [] };
  },

  verify(ctx: Context): Finding[] {
    return judgeBenchmark(ctx);
  },
};

/** kube-bench's verdict on every flag check of a benchmark for a merged configuration, before K3s' first start. Pure. */
export function judgeFlags(
  name: Parameters<typeof benchmarkRows>[0],
  version: Parameters<typeof componentArgs>[1],
  role: 'server' | 'agent',
  merged: ReturnType<typeof mergeK3sConfig>,
): Record<string, Verdict> {
  const lines = new Map<Component, string>();
  for (const c of componentsOf(role)) lines.set(c, runningLine(c, componentArgs(c, version, merged)));
  const unitName = role === 'server' ? 'k3s' : 'k3s-agent';
  const obs: Observation = {
    lines: (component, units) => (lines.has(component) && units.includes(unitName) ? [lines.get(component)!] : []),
    managedEtcd: role === 'server' && datastoreOf(merged) === 'etcd',
    running: true,
    files: () => null,
    text: (path) => (path.endsWith('/agent/kubelet.kubeconfig') ? '{"apiVersion":"v1","kind":"Config"}' : null),
    cluster: () => null,
  };
  const out: Record<string, Verdict> = {};
  for (const row of benchmarkRows(name)) {
    if (row.type !== 'automated' || row.reads.kind !== 'line' || (role === 'agent' && row.target !== 'node')) continue;
    out[row.id] = judgeRow(row, auditOutput(row, obs), parse);
  }
  return out;
}
