/**
 * kube-bench's verdict on one row, from what its audit would print on this node. The audit is
 * not run: its output is made from an Observation (the journal lines K3s logged or will log, the
 * files' modes and owners, the cluster's answer), then judged with the semantics of kube-bench's
 * check/check.go and check/test.go:
 *
 * - type skip is INFO, type manual is WARN; no tests is WARN (scored, untyped) or FAIL/WARN;
 * - an audit that exits non-zero (a trailing grep without a match, stat of a missing file) is
 *   FAIL when scored and WARN otherwise, whatever the tests say;
 * - a flag is found with strings.Contains and its value is the first "flag=value" match;
 * - when the flag is not in the audit output and audit_config printed something, the test's
 *   path is evaluated as a JSONPath on that output (a path without braces prints itself);
 * - eq/noteq compare booleans case-insensitively, gte/gt/lt/lte need integers, has/nothave are
 *   substring tests, valid_elements splits on commas, bitmask is (max & mode) == mode; an
 *   unknown operator (noteqx) is false;
 * - use_multiple_values: every line must pass. Pure.
 */
import type { BenchRow, BenchTest, Component, ConfigRead } from './rows.js';

export type KubeBenchState = 'PASS' | 'FAIL' | 'WARN' | 'INFO';

export interface FileFact {
  path: string;
  mode: number;
  owner: string;
}

/** What the audits see on this node. */
export interface Observation {
  /** The "Running <component>" lines of these units, in journal order. */
  lines(component: Component, units: readonly string[]): string[];
  /** Whether the journal says "Managed etcd cluster" (embedded etcd). */
  managedEtcd: boolean;
  /** Whether K3s' containerd runs (ps audits). */
  running: boolean;
  /** Files matching a path or a glob ("dir/*" lists a directory); null when the path does not exist. */
  files(path: string, recursive?: boolean): FileFact[] | null;
  /** A file's text, or null when there is none. */
  text(path: string): string | null;
  /** kubectl's answer for the objects, as the audit prints it; null when the API does not answer. */
  cluster(objects: string): string | null;
}

export interface AuditOutput {
  output: string;
  /** Why the audit exits non-zero, or null. */
  error: string | null;
  config?: string;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8);
}

function readConfig(obs: Observation, read: ConfigRead | undefined): { text: string; error: string | null } | undefined {
  if (!read) return undefined;
  const text = obs.text(read.path);
  if (text !== null) return { text, error: null };
  return read.ifExists ? { text: '', error: null } : { text: '', error: `${read.path}: No such file or directory` };
}

/** The audit's output on this observation. */
export function auditOutput(row: BenchRow, obs: Observation): AuditOutput {
  const r = row.reads;
  switch (r.kind) {
    case 'line': {
      if (r.fallback !== undefined) {
        const useFallback =
          r.fallbackWhen === 'no-managed-etcd' ? !obs.managedEtcd : obs.lines(r.countComponent ?? r.component, r.countUnits ?? r.units).length === 0;
        if (useFallback) return { output: r.fallback, error: null };
      }
      const all = obs.lines(r.component, r.units);
      let out = (r.which === 'first' ? all[0] : all[all.length - 1]) ?? '';
      let error: string | null = null;
      for (const g of r.greps) {
        if (error) break;
        if (g.invert) {
          if (out === '' || out.includes(g.pattern)) {
            error = `no line without "${g.pattern}"`;
            out = '';
          }
        } else if (!out.includes(g.pattern)) {
          error = out === '' ? `no "Running ${r.component}" line in the journal` : `the line has no "${g.pattern}"`;
          out = '';
        } else if (g.only) out = g.pattern;
      }
      const config = readConfig(obs, r.config);
      if (config?.error && !error && out === '') error = config.error;
      return { output: out, error, ...(config ? { config: config.text } : {}) };
    }
    case 'mode':
    case 'owner': {
      let files = obs.files(r.path, r.recursive);
      if (files !== null && r.skipLock) files = files.filter((f) => !f.path.endsWith('/lock'));
      if (files === null || files.length === 0) {
        if (r.ifExists) return { output: '', error: null };
        return { output: '', error: `stat: cannot statx '${r.path}': No such file or directory` };
      }
      const line = (f: FileFact) =>
        r.kind === 'owner' ? f.owner : r.format === '%a' ? octal(f.mode) : r.format === '%n %a' ? `${f.path} ${octal(f.mode)}` : `permissions=${octal(f.mode)}`;
      return { output: files.map(line).join('\n'), error: null };
    }
    case 'etcd-dir-mode': {
      if (!obs.managedEtcd) return { output: r.fallback, error: null };
      const files = obs.files(r.path);
      if (files === null || files.length === 0) return { output: '', error: `stat: cannot statx '${r.path}': No such file or directory` };
      return { output: `permissions=${octal(files[0]!.mode)}`, error: null };
    }
    case 'etcd-config': {
      const text = obs.text('/var/lib/rancher/k3s/server/db/etcd/config');
      if (text === null) return { output: '', error: '/var/lib/rancher/k3s/server/db/etcd/config: No such file or directory (no embedded etcd)' };
      return r.grep ? { output: text, error: null } : { output: '', error: null, config: text };
    }
    case 'encryption-providers': {
      const line = obs.lines('kube-apiserver', ['k3s']).pop() ?? '';
      const m = /--encryption-provider-config[= ]([^ "]*)/.exec(line);
      if (!m) return { output: '', error: null };
      const text = obs.text(m[1]!);
      if (text === null) return { output: '', error: null };
      const p = /providers"\s*:\s*\[\s*\{\s*"([A-Za-z]*)/.exec(text);
      return { output: p ? `provider=${p[1]}` : '', error: null };
    }
    case 'process': {
      if (!obs.running) return { output: '', error: 'no containerd process' };
      return { output: 'root 1 0 containerd -c /var/lib/rancher/k3s/agent/etc/containerd/config.toml', error: null };
    }
    case 'cluster': {
      const answer = obs.cluster(r.objects);
      if (answer === null) return { output: '', error: 'the API server does not answer' };
      return { output: answer, error: null };
    }
    case 'file-content': {
      const c = readConfig(obs, r);
      return { output: '', error: null, config: c?.text ?? '' };
    }
    case 'none':
    case 'unsupported':
      return { output: '', error: null };
  }
}

/** Go's \s, the class RE2 gives kube-bench's `[^\s]`: ASCII space, \t, \n, \f, \r (not \v, not Unicode spaces). */
function goSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

/**
 * flagTestItem.findValue (check/test.go): strings.Contains, then the first match of
 * `(flag)(=|: *)*([^\s]*) *`; an empty value is "true" for a `--` flag, else the flag itself.
 * Scanned here as that pattern matches, leftmost and greedy, without compiling a regular
 * expression for each of the hundreds of tests a check runs: the first occurrence of the flag,
 * every "=" or ":" with the spaces after it, then everything up to Go's next white space.
 */
export function findFlag(s: string, flag: string): { found: boolean; value: string } {
  const at = s === '' || flag === '' ? -1 : s.indexOf(flag);
  if (at < 0) return { found: false, value: '' };
  let start = at + flag.length;
  for (;;) {
    const c = s.charCodeAt(start);
    if (c === 61) start++;
    else if (c === 58) {
      start++;
      while (s.charCodeAt(start) === 32) start++;
    } else break;
  }
  let end = start;
  while (end < s.length && !goSpace(s.charCodeAt(end))) end++;
  if (end > start) return { found: true, value: s.slice(start, end) };
  return { found: true, value: flag.startsWith('--') ? 'true' : flag };
}

/** A JSONPath of kube-bench's tests on YAML/JSON text: {.a.b}, {range .x[:]}{}{','}{end}, or literal text. */
export function jsonPath(text: string, path: string, parse: (t: string) => unknown): string {
  let data: unknown;
  try {
    data = parse(text);
  } catch {
    return '';
  }
  if (!path.includes('{')) return path;
  const range = /^\{range \.([A-Za-z0-9_.]+)\[:\]\}\{\}\{','\}\{end\}$/.exec(path);
  const lookup = (dotted: string) =>
    dotted.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);
  if (range) {
    const v = lookup(range[1]!);
    return Array.isArray(v) ? v.map((x) => `${String(x)},`).join('') : '';
  }
  const simple = /^\{\.([A-Za-z0-9_.-]+)\}$/.exec(path);
  if (!simple) return '';
  const v = lookup(simple[1]!);
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function compareOp(op: string, flagVal: string, want: string): boolean {
  switch (op) {
    case 'eq': {
      const v = flagVal.toLowerCase();
      return v === 'false' || v === 'true' ? v === want : flagVal === want;
    }
    case 'noteq': {
      const v = flagVal.toLowerCase();
      return v === 'false' || v === 'true' ? v !== want : flagVal !== want;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const a = /^\s*[+-]?\d+\s*$/.test(flagVal) ? Number(flagVal.trim()) : NaN;
      const b = /^\s*[+-]?\d+\s*$/.test(want) ? Number(want.trim()) : NaN;
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
    }
    case 'has':
      return flagVal.includes(want);
    case 'nothave':
      return !flagVal.includes(want);
    case 'regex':
      try {
        return new RegExp(want).test(flagVal);
      } catch {
        return false;
      }
    case 'valid_elements': {
      const split = (s: string) => {
        const clean = s.trim().replace(/,+$/, '');
        return clean === '' ? [] : clean.split(',').map((x) => x.trim());
      };
      const s = split(flagVal);
      const t = split(want);
      if (s.length === 0 && t.length === 0) return true;
      if (s.length === 0 || t.length === 0) return false;
      return s.every((x) => t.includes(x));
    }
    case 'bitmask': {
      if (!/^[0-7]+$/.test(flagVal) || !/^[0-7]+$/.test(want)) return false;
      const requested = parseInt(flagVal, 8);
      return (parseInt(want, 8) & requested) === requested;
    }
    default:
      return false;
  }
}

function evaluateItem(t: BenchTest, s: string, usePath: boolean, parse: (t: string) => unknown): { pass: boolean; found: boolean } {
  let found: boolean;
  let value: string;
  if (usePath) {
    value = jsonPath(s, t.path ?? '', parse);
    found = value !== '';
  } else {
    ({ found, value } = findFlag(s, t.flag ?? ''));
  }
  if (t.set) return { pass: found && t.op ? compareOp(t.op, value, t.value ?? '') : found, found };
  return { pass: !found, found };
}

function executeItem(t: BenchTest, s: string, multi: boolean, usePath: boolean, parse: (t: string) => unknown): { pass: boolean; found: boolean } {
  const trimmed = s.replace(/[ \n]+$/, '');
  const outputs = multi ? trimmed.split('\n') : [trimmed];
  let result = { pass: false, found: false };
  for (const o of outputs) {
    result = evaluateItem(t, o, usePath, parse);
    if (!result.pass) break;
  }
  return result;
}

export interface Verdict {
  state: KubeBenchState;
  /** The audit output judged (first line when long). */
  actual: string;
  reason: string;
}

/** kube-bench's state for the row on this audit output. `parse` reads YAML or JSON (audit_config output). */
export function judgeRow(row: BenchRow, audit: AuditOutput, parse: (t: string) => unknown): Verdict {
  if (row.type === 'skip') return { state: 'INFO', actual: '', reason: 'kube-bench marks this check skip (not applicable to K3s)' };
  if (row.type === 'manual') return { state: 'WARN', actual: '', reason: 'kube-bench marks this check manual: it is left to the operator' };
  const bad: KubeBenchState = row.scored ? 'FAIL' : 'WARN';
  if (row.tests === null || row.tests.items.length === 0) {
    return { state: row.scored ? 'WARN' : bad, actual: '', reason: 'kube-bench defines no tests for this check ("No tests defined"): it always warns' };
  }
  if (audit.error !== null) return { state: bad, actual: audit.output, reason: `the audit fails: ${audit.error}` };
  const results = row.tests.items.map((t) => {
    let r = executeItem(t, audit.output, row.multi, false, parse);
    if (!r.found && audit.config !== undefined && audit.config !== '' && (row.reads.kind === 'line' ? row.reads.config !== undefined : true)) {
      r = executeItem(t, audit.config, row.multi, true, parse);
    }
    return r.pass;
  });
  const op = row.tests.binOp;
  if (op !== 'and' && op !== 'or' && op !== '') return { state: bad, actual: audit.output, reason: `unknown binary operator ${op}` };
  const pass = op === 'or' ? results.some(Boolean) : results.every(Boolean);
  return { state: pass ? 'PASS' : bad, actual: audit.output, reason: pass ? '' : describeTests(row) };
}

/** The tests in words: "--audit-log-maxage gte 30 OR ...". */
export function describeTests(row: BenchRow): string {
  if (!row.tests) return 'no tests';
  return row.tests.items
    .map((t) => {
      const what = t.flag ?? t.path ?? '';
      if (!t.set) return `${what} not set`;
      return t.op ? `${what} ${t.op} ${t.value}` : `${what} set`;
    })
    .join(row.tests.binOp === 'or' ? ' OR ' : ' AND ');
}
