import { ARTEFACTS } from './artefacts.js';
import type { CommandName } from './args.js';

const COMMON = `  --config FILE      configuration (default /etc/k3s-hostprep/config.yaml, optional)
  --role server|agent  node role (default: config, else the installed k3s/k3s-agent unit, else server)
  --root DIR         prepare an offline root (image or mounted disk); the running kernel is not touched
  --k3s-version V    K3s version to prepare for, e.g. v1.28.5+k3s1 (default: config k3sVersion, else
                     k3s --version, else INSTALL_K3S_VERSION, else the newest line)`;

export const USAGE = `k3s-hostprep: prepares a host for a hardened K3s node and proves it.

Usage:
  k3s-hostprep apply  [--json] [--force] [--junit FILE] [options]  converge, verify, print the report
  k3s-hostprep check  [--json] [--junit FILE] [options]  verify only; changes nothing
  k3s-hostprep plan   [--json] [--force] [options]   show what apply would change; changes nothing
  k3s-hostprep render <artefact> [options]           print one generated file
  k3s-hostprep watch  [options]                      verify at an interval and on change; log drift
  k3s-hostprep --version | --help | <command> --help

Options:
${COMMON}

Exit codes: 0 compliant; 1 not compliant; 2 usage or configuration error (nothing written);
3 the host could not be read or changed.
`;

const PER_COMMAND: Record<CommandName, string> = {
  apply: `Usage: k3s-hostprep apply [--json] [--force] [options]

Converges this host (kernel parameters, sysctl.d file, K3s directories, audit policy, network policies,
pod security admission, the K3s config.yaml.d drop-in), then verifies it, including the flags K3s will run
with after merging config.yaml and every drop-in, and prints the report. Must run as root. Files that k3s-hostprep did not write are left alone unless --force is
given, which replaces them after keeping a backup beside them.

  --json             print the report as JSON
  --force            replace files written by someone else (a backup is kept)
  --junit FILE       also write the report as JUnit XML to FILE
${COMMON}
`,
  check: `Usage: k3s-hostprep check [--json] [options]

Verifies every control and prints the report; changes nothing. Works without root where the files can be read.

  --json             print the report as JSON
  --junit FILE       also write the report as JUnit XML to FILE
${COMMON}
`,
  plan: `Usage: k3s-hostprep plan [--json] [--force] [options]

Shows what apply would change: a unified diff for each file, a line for each directory and kernel value.
Changes nothing. Exits 0 when there is nothing to do, 1 when apply would change something or is blocked.

  --json             print the plan as JSON
  --force            plan as apply --force would
${COMMON}
`,
  render: `Usage: k3s-hostprep render <artefact> [options]

Prints one generated file to standard output, exactly as apply writes it. Artefacts:
${ARTEFACTS.map((a) => `  ${a.name.padEnd(18)} ${a.description}`).join('\n')}

${COMMON}
`,
  watch: `Usage: k3s-hostprep watch [options]

Verifies every control every watch.interval seconds (default 60) and soon after a change under the sysctl.d
directories, /etc/sysctl.conf, /etc/rancher/k3s and the files and directories k3s-hostprep manages. Logs one
line per change of state (control, CIS number, expected, actual, since when) on standard error, with syslog
priority prefixes when that is the journal. With watch.remediate: true in the configuration it re-applies the
control that drifted, and only that one (must run as root). With metrics.textfilePath it rewrites the
node_exporter textfile after every cycle. Runs until SIGTERM or SIGINT; restart it after changing the config.

  --cycles N         run N cycles back to back, print resource use as JSON and exit (tests, benchmarks)
  --config FILE      configuration (default /etc/k3s-hostprep/config.yaml, optional)
  --role server|agent  node role (default: config, else the installed k3s/k3s-agent unit, else server)
`,
};

export function commandHelp(command: CommandName | null): string {
  return command ? PER_COMMAND[command] : USAGE;
}
