/** The one line a failed run leaves on stderr, and so in the journal of a failed unit. Pure. */
import type { Report } from './model.js';
import { escapeControls } from './escape.js';

/**
 * One line that says why a run is not compliant, on stderr, so that the journal of a failed
 * unit carries the reason in a line an operator reads (with the journal's error priority).
 */
export function failureLine(report: Report, journal: boolean): string {
  const bad = report.controls.flatMap((c) =>
    c.scored
      ? c.findings
          .filter((f) => f.status === 'fail' || f.status === 'error')
          .map((f) => ({ f, line: `[${c.id}] ${f.reason || `${f.item}: expected ${f.expected}, got ${f.actual}`}` }))
      : [],
  );
  // Exit 3: what could not be read or changed comes first, it is why the run stopped.
  const problems = [
    ...bad.filter((b) => report.exitCode === 3 && b.f.status === 'error'),
    ...bad.filter((b) => !(report.exitCode === 3 && b.f.status === 'error')),
  ].map((b) => b.line);
  const all = [...report.hostErrors, ...problems];
  const what = report.exitCode === 3 ? 'HOST ERROR' : 'NOT COMPLIANT';
  const more = all.length > 1 ? ` (and ${all.length - 1} more; the report above lists them)` : '';
  const first = escapeControls((all[0] ?? 'see the report above').replace(/\s*\n\s*/g, ' '));
  return `${journal ? '<3>' : ''}k3s-hostprep: ${report.command}: ${what}: ${first}${more}\n`;
}
