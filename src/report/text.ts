/** The report for people: a table, the reasons for what is not a pass, and a one-line verdict. Pure. */
import type { Change } from '../controls/types.js';
import type { Report } from './model.js';
import { octal } from '../controls/managed.js';
import { escapeControls as e } from './escape.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
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

export function renderText(report: Report): string {
  const out: string[] = [];
  const host = report.host ? ` on ${e(report.host.hostname)} (${e(report.host.distribution)}, kernel ${e(report.host.kernel)})` : '';
  out.push(`k3s-hostprep ${report.version} ${report.command}${host}`);
  out.push(e(`role: ${report.role} (${report.roleSource}); config: ${report.config}${report.root !== '/' ? `; root: ${report.root}` : ''}`));
  out.push(`K3s: ${report.k3s.version} (${report.k3s.source})`);
  out.push('');
  const rows = [['CONTROL', 'CIS', 'STATUS', 'ITEM', 'EXPECTED', 'ACTUAL']];
  for (const c of report.controls) {
    for (const f of c.findings) rows.push([c.id, f.cis ?? c.cis ?? '-', f.status.toUpperCase(), f.item, f.expected, f.actual]);
  }
  out.push(table(rows.map((r) => r.map(e))));

  const problems = report.controls.flatMap((c) => c.findings.filter((f) => f.status === 'fail' || f.status === 'error' || f.status === 'warn').map((f) => ({ c, f })));
  if (problems.length > 0) {
    out.push('', 'Reasons:');
    for (const { c, f } of problems) out.push(`  [${f.status.toUpperCase()}] ${c.id} ${e(f.item)}: ${e(f.reason)}`);
    const remediations = [...new Set(problems.map(({ c }) => c))];
    out.push('', 'Remediation:');
    for (const c of remediations) out.push(`  ${c.id}: ${c.remediation}`);
  }

  const changes = report.controls.flatMap((c) => c.changes);
  out.push('');
  if (report.command === 'apply') {
    out.push(changes.length === 0 ? 'Changes: nothing to change.' : `Changes made (${changes.length}):`);
    for (const change of changes) out.push(`  ${e(describeChange(change))}`);
    for (const b of report.backups) out.push(`  backup kept: ${e(b)}`);
  } else if (report.command === 'plan') {
    out.push(changes.length === 0 ? 'Plan: nothing to change.' : `Plan: ${changes.length} change(s).`);
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
    return report.exitCode === 1 ? `Verdict: NOT COMPLIANT; ${what} (${counts}).` : `Verdict: INCOMPLETE: ${what}; everything that could be read passes (${counts}).`;
  }
  if (report.exitCode === 3) return `Verdict: HOST ERROR: the host could not be read or changed (${counts}).`;
  if (report.command === 'plan') return report.exitCode === 0 ? `Verdict: nothing to do (${counts}).` : `Verdict: apply would change this host (${counts}).`;
  return report.compliant ? `Verdict: COMPLIANT (${counts}).` : `Verdict: NOT COMPLIANT (${counts}).`;
}
