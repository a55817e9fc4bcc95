/** What plan prints: a unified diff for each file, a line for each directory and kernel value. Pure. */
import { createTwoFilesPatch } from 'diff';
import type { Change } from '../controls/types.js';
import type { Report } from './model.js';
import { describeChange } from './text.js';

export function renderChange(change: Change): string {
  if (change.kind !== 'file') return `${describeChange(change)}\n`;
  const header = `# ${describeChange(change)}\n`;
  return header + createTwoFilesPatch(change.before === null ? '/dev/null' : change.path, change.path, change.before ?? '', change.after, undefined, undefined, { context: 3 });
}

export function renderPlan(report: Report): string {
  const changes = report.controls.flatMap((c) => c.changes);
  return changes.map(renderChange).join('');
}
