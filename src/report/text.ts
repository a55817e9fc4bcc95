/** The report for people: a table, the reasons for what is not a pass, and a one-line verdict. Pure. */
import type { Change } from '../controls/types.js';
import { PENDING_REASON, type Report } from './model.js';
import { octal } from '../controls/managed.js';
import { escapeControls as e } from './escape.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function describeChange(change: Change): string {
  switch (change.kind) {
    case 'file':
      return `${change.before === null ? 'create' : change.backup ? 'replace (backup kept)' : 'update'} ${change.path} (mode ${octal(change.mode)})`;
    case 'mkdir':
      return `mkdir ${change.path} (mode ${octal(change.mode)})`;
    case 'chmod':
      return `chmod ${change.path}: ${octal(change.from)} -> ${octal(change.to)}`;
    case 'chown':
      return `chown ${change.path}: ${change.from} -> ${change.to}`;
    case 'sysctl':
      return `sysctl ${change.key}: ${change.from} -> ${change.to}`;
    case 'remove':
      return `remove ${change.path} (${change.why})`;
  }
}

/** The first lines of every report: what ran, where, for which role and K3s version. */
export function header(report: Report): string[] {
  const host = report.host ? ` on ${report.host.hostname} (${report.host.distribution}, kernel ${report.host.kernel})` : '';
  // Each line escaped: values from files and configuration never carry a control character out.
  return [
    `k3s-hostprep ${report.version} ${report.command}${host}`,
    `role: ${report.role} (${report.roleSource}); config: ${report.config}${report.root !== '/' ? `; root: ${report.root}` : ''}`,
    `K3s: ${report.k3s.version} (${report.k3s.source})`,
    `Benchmark: ${report.benchmark.name} (${report.benchmark.source}); every CIS id below is this benchmark's`,
  ].map(e);
}

/** Findings that plan reports because apply would change something (not because it is blocked). */
export function isPending(reason: string): boolean {
  return reason === PENDING_REASON;
}

type ControlResult = Report['controls'][number];
type ReportFinding = ControlResult['findings'][number];

/** A value that came from K3s' unit: "... (/etc/systemd/system/k3s.service (ExecStart))". */
const FROM_UNIT = /\((\/\S+\.service) \(ExecStart\)\)/;

/**
 * What fixes one finding, when it is not what the control's remediation says: the finding's own
 * fix; a flag in K3s' unit, which apply never edits; a warning, whose reason already says what
 * to do (apply has nothing more to do for it). Undefined: the control's remediation applies.
 */
export function findingRemediation(f: ReportFinding): string | null | undefined {
  if (f.fix !== undefined) return f.fix;
  const unit = FROM_UNIT.exec(f.actual);
  if (unit && f.status !== 'pass') {
    return `the value comes from ExecStart in ${unit[1]}, which apply does not edit: change that flag there (or in a drop-in under ${unit[1]}.d that resets ExecStart=), then systemctl daemon-reload and restart K3s`;
  }
  if (f.status === 'warn') return null;
  return undefined;
}

/** What apply cannot settle, with what fixes it: a finding's own fix, else its control's remediation. */
export function reasons(report: Report, keep: (f: ReportFinding) => boolean = () => true): string[] {
  const out: string[] = [];
  const problems = report.controls.flatMap((c) =>
    c.findings.filter((f) => (f.status === 'fail' || f.status === 'error' || f.status === 'warn') && keep(f)).map((f) => ({ c, f })),
  );
  if (problems.length > 0) {
    out.push('', 'Reasons:');
    for (const { c, f } of problems) out.push(`  [${f.status.toUpperCase()}] ${c.id} ${f.item}: ${f.reason}`);
    const lines: string[] = [];
    for (const { c, f } of problems) {
      const own = findingRemediation(f);
      const line = own === undefined ? `  ${c.id}: ${c.remediation}` : own === null ? null : `  ${c.id} ${f.item}: ${own}`;
      if (line !== null && !lines.includes(line)) lines.push(line);
    }
    if (lines.length > 0) out.push('', 'Remediation:', ...lines);
  }
  return out.map(e);
}

/**
 * A table cell at most 120 characters: a kube-bench test's list of ciphers or a logged command
 * line would widen every row of the table. The JSON report carries the full text.
 */
function cell(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function renderText(report: Report): string {
  const out: string[] = [...header(report)];
  out.push('');
  const rows = [['CONTROL', 'CIS', 'STATUS', 'ITEM', 'EXPECTED', 'ACTUAL']];
  for (const c of report.controls) {
    for (const f of c.findings) rows.push([c.id, f.cis ?? c.cis ?? '-', f.status.toUpperCase(), f.item, cell(f.expected), cell(f.actual)]);
  }
  out.push(table(rows.map((r) => r.map(e))));

  out.push(...reasons(report));

  const changes = report.controls.flatMap((c) => c.changes);
  out.push('');
  if (report.command === 'apply') {
    out.push(changes.length === 0 ? 'Changes: nothing to change.' : `Changes made (${changes.length}):`);
    for (const change of changes) out.push(`  ${e(describeChange(change))}`);
    for (const b of report.backups) out.push(`  backup kept: ${e(b)}`);
  }
  if (report.hostErrors.length > 0) {
    out.push('', 'Host errors:');
    for (const h of report.hostErrors) out.push(`  ${e(h)}`);
  }
  out.push(verdict(report));
  return out.join('\n') + '\n';
}

export function verdict(report: Report): string {
  const s = report.summary;
  const counts = `${s.pass} passed, ${s.fail} failed, ${s.warn} warned, ${s.skip} skipped, ${s.error} unreadable`;
  if (report.command === 'check' && report.hostErrors.length === 0 && s.error > 0) {
    const what = `${s.error} item(s) could not be read (as a non-root user, run check as root for a full verdict)`;
    return report.exitCode === 1
      ? `Verdict: NOT COMPLIANT; ${what} (${counts}).`
      : `Verdict: INCOMPLETE: ${what}; everything that could be read passes (${counts}).`;
  }
  if (report.exitCode === 3) return `Verdict: HOST ERROR: the host could not be read or changed (${counts}).`;
  if (report.command === 'plan') {
    const changes = report.summary.changes;
    const blocked = report.controls.flatMap((c) => c.findings).filter((f) => (f.status === 'fail' || f.status === 'error') && !isPending(f.reason)).length;
    const toChange = report.controls.filter((c) => c.changes.length > 0).length;
    const would = changes === 0 ? 'apply would change nothing' : `apply would make ${changes} change(s) in ${toChange} control(s)`;
    if (blocked > 0) return `Verdict: BLOCKED: ${would}, and ${blocked} item(s) need the operator first (see Reasons).`;
    return changes === 0 ? 'Verdict: nothing to do: apply would change nothing.' : `Verdict: ${would}.`;
  }
  return report.compliant ? `Verdict: COMPLIANT (${counts}).` : `Verdict: NOT COMPLIANT (${counts}).`;
}
