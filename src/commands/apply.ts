import { command } from './command.js';
import { FORCE, JSON_REPORT, JUNIT, WAIT } from './options.js';
import { HOST_OPTIONS, runReport } from './report-run.js';

export const apply = command({
  name: 'apply',
  summary: 'converge this host, verify it, print the report (the main job)',
  description: `Converges this host (kernel parameters, sysctl.d file, K3s directories, audit policy, network policies,
pod security admission, the K3s config.yaml.d drop-in), then verifies it, including the flags K3s will run
with after merging config.yaml and every drop-in, and prints the report. Must run as root. Files that
k3s-hostprep did not write are left alone unless --force is given, which replaces them after keeping a
backup beside them.`,
  options: { json: JSON_REPORT, force: FORCE, wait: WAIT, junit: JUNIT, ...HOST_OPTIONS },
  run: ({ values }, io) => runReport('apply', values, io),
});
