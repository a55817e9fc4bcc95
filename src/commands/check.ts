import { command } from './command.js';
import { JSON_REPORT, JUNIT } from './options.js';
import { HOST_OPTIONS, runReport } from './report-run.js';

export const check = command({
  name: 'check',
  summary: 'verify only; changes nothing',
  description: `Verifies every control and prints the report; changes nothing. Works without root: what cannot be read is
marked unreadable; exit 1 if anything it read fails, else 3 if something could not be read.`,
  options: { json: JSON_REPORT, junit: JUNIT, ...HOST_OPTIONS },
  run: ({ values }, io) => runReport('check', values, io),
});
