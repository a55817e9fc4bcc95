import { command } from './command.js';
import { FORCE, JSON_REPORT, withHelp } from './options.js';
import { HOST_OPTIONS, runReport } from './report-run.js';

export const plan = command({
  name: 'plan',
  summary: 'show what apply would change; changes nothing',
  description: `Shows what apply would change: the report's header, then each change once (a unified diff for each
file, a line for each directory and kernel value), then one verdict. Changes nothing. Exits 0 when there
is nothing to do, 1 when apply would change something or is blocked.`,
  options: { json: withHelp(JSON_REPORT, 'print the plan as JSON'), force: withHelp(FORCE, 'plan as apply --force would'), ...HOST_OPTIONS },
  run: ({ values }, io) => runReport('plan', values, io),
});
