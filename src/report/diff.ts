/** What plan prints: a unified diff for each file, a line for each directory and kernel value. Pure. */
import { createTwoFilesPatch } from 'diff';
import type { Change } from '../controls/types.js';
import type { Report } from './model.js';
import { describeChange, header, isPending, reasons, verdict } from './text.js';

export function renderChange(change: Change): string {
  if (change.kind !== 'file') return `${describeChange(change)}\n`;
  const header = `# ${describeChange(change)}\n`;
  return (
    header +
    createTwoFilesPatch(change.before === null ? '/dev/null' : change.path, change.path, change.before ?? '', change.after, undefined, undefined, {
      context: 3,
    })
  );
}

/**
 * plan's text: the report's header, each change apply would make once, what apply cannot settle
 * (with its remediation), and one verdict line.
 */
export function renderPlan(report: Report): string {
  const changes = report.controls.flatMap((c) => c.changes);
  const out = [...header(report), ''];
  if (changes.length > 0) out.push(`Changes apply would make (${changes.length}):`, '', changes.map(renderChange).join('').trimEnd());
  else out.push('Changes apply would make: none.');
  out.push(...reasons(report, (f) => !isPending(f.reason)));
  if (report.hostErrors.length > 0) out.push('', 'Host errors:', ...report.hostErrors.map((e) => `  ${e}`));
  out.push('', verdict(report));
  return out.join('\n') + '\n';
}
