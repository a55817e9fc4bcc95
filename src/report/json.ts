import type { Report } from './model.js';

/** The same report as JSON: every field of the one report object. Pure. */
export function renderJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}
