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
  k3s-hostprep render <artefact> [options]           print one generated file (or a #cloud-config)
  k3s-hostprep install [--root DIR] [--binary FILE]  install the executable and its systemd units, enable them
  k3s-hostprep uninstall [--root DIR]                disable and remove what install put in place
  k3s-hostprep service-accounts [--timeout SECONDS]  CIS 5.1.5: default service accounts mount no API token
  k3s-hostprep watch  [options]                      verify at an interval and on change; log drift
  k3s-hostprep --version | --help | <command> --help

Options:
${COMMON}

Exit codes: 0 compliant; 1 not compliant; 2 usage or configuration error (nothing written);
3 the host could not be read or changed.
`;

const PER_COMMAND: Record<CommandName, string> = {
  apply: `Usage: k3s-hostprep apply [--json] [--force] [--wait SECONDS] [options]

Converges this host (kernel parameters, sysctl.d file, K3s directories, audit policy, network policies,
pod security admission, the K3s config.yaml.d drop-in), then verifies it, including the flags K3s will run
with after merging config.yaml and every drop-in, and prints the report. Must run as root. Files that k3s-hostprep did not write are left alone unless --force is
given, which replaces them after keeping a backup beside them.

  --json             print the report as JSON
  --force            replace files written by someone else (a backup is kept)
  --wait SECONDS     wait this long for another run's lock (default 60; 0: fail at once)
  --junit FILE       also write the report as JUnit XML to FILE
${COMMON}
`,
  check: `Usage: k3s-hostprep check [--json] [options]

Verifies every control and prints the report; changes nothing. Works without root: what cannot be read is
marked unreadable; exit 1 if anything it read fails, else 3 if something could not be read.

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
  ${'cloud-init'.padEnd(18)} a #cloud-config: installs k3s-hostprep, runs apply, and only then installs K3s

  --agent-url URL      cloud-init: the release tarball nodes download (scripts/build-sea)
  --agent-sha256 HEX   cloud-init: its SHA-256, checked before anything runs
  --k3s-installer-sha256 HEX   cloud-init: SHA-256 of the K3s installer script (get.k3s.io), checked before it runs
  (cloud-init: a full --k3s-version such as v1.30.4+k3s1, or the config's, pins the release the K3s
   installer installs; otherwise it installs the stable channel)
${COMMON}
`,
  install: `Usage: k3s-hostprep install [--root DIR] [--binary FILE] [--force]

Puts the executable at /usr/local/bin/k3s-hostprep and the units k3s-hostprep.service (runs apply before
k3s.service and k3s-agent.service, which require it), k3s-hostprep-service-accounts.service and its timer in
/etc/systemd/system, and enables them: through systemctl when systemd runs this host, else (and always under
--root) by writing the symlinks systemctl enable writes. Idempotent. Must run as root.

  --root DIR         install into an offline root (an image or a mounted disk)
  --binary FILE      the executable to install (default: this single executable; under Node.js, a launcher)
  --force            replace unit files written by someone else (a backup is kept)
`,
  uninstall: `Usage: k3s-hostprep uninstall [--root DIR] [--force]

Undoes install: disables the units (systemctl, or removing the same symlinks; the timer is also stopped, the
gate unit is not, since K3s requires it), removes the unit files and the
executable. Unit files that were edited or not written by k3s-hostprep are left alone unless --force is
given (a backup is kept). Idempotent. Must run as root.

  --root DIR         uninstall from an offline root
  --force            remove unit files written or edited by someone else (a backup is kept)
`,
  'service-accounts': `Usage: k3s-hostprep service-accounts [--timeout SECONDS] [--kubeconfig FILE] [--json]

CIS 5.1.5, once K3s is up: sets automountServiceAccountToken: false on the default ServiceAccount of every
namespace, through "k3s kubectl" (or kubectl), and reports what it changed. Waits for the API with a
bounded retry (default 300 seconds) and exits 3 when it never answers. Run by
k3s-hostprep-service-accounts.timer so that namespaces created later are covered.

  --timeout SECONDS  how long to wait for the Kubernetes API (default 300)
  --kubeconfig FILE  a kubeconfig only root can change (default /etc/rancher/k3s/k3s.yaml; KUBECONFIG is ignored)
  --json             print the result as JSON
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
