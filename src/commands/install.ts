import * as fs from 'node:fs';
import { HostError, UsageError, describeError } from '../errors.js';
import { install as installUnits, renderInstallReport, uninstall as uninstallUnits, type BinarySource, type InstallReport } from '../systemd/install.js';
import { command, type Io } from './command.js';
import { loadConfig, openHost } from './context.js';
import { BINARY, CONFIG, FORCE, ROOT, withHelp } from './options.js';

/** Whether this process is the single executable built by scripts/build-sea. */
async function isSingleExecutable(): Promise<boolean> {
  try {
    const sea = (await import('node:sea')) as { isSea?: () => boolean };
    return sea.isSea?.() ?? false;
  } catch {
    return false;
  }
}

/** What install puts at /usr/local/bin/k3s-hostprep: --binary, else this single executable, else a launcher for this package. */
async function binarySource(file: string | undefined, root: string | undefined): Promise<BinarySource> {
  const read = (p: string, what: string) => {
    try {
      return fs.readFileSync(p);
    } catch (error) {
      throw new UsageError(`${what} ${p}: cannot read it: ${describeError(error)}`, { cause: error });
    }
  };
  if (file !== undefined) return { kind: 'file', path: file, content: read(file, '--binary') };
  if (await isSingleExecutable()) return { kind: 'file', path: process.execPath, content: read(process.execPath, 'this executable') };
  if (root !== undefined) {
    throw new UsageError('install --root needs the single executable (scripts/build-sea) or --binary FILE: this k3s-hostprep runs under Node.js from files of this machine');
  }
  return { kind: 'launcher', node: process.execPath, script: fs.realpathSync(process.argv[1] ?? '') };
}

function finish(name: string, report: InstallReport, io: Io): number {
  io.out.write(renderInstallReport(report));
  if (report.exitCode !== 0) io.err.write(`k3s-hostprep: ${name}: ${report.hostErrors[0] ?? report.blocked[0]?.reason ?? 'failed'}\n`);
  return report.exitCode;
}

const ROOT_INSTALL = withHelp(ROOT, 'install into an offline root (an image or a mounted disk)');

export const install = command({
  name: 'install',
  summary: 'install the executable and the systemd units, enable them',
  description: `Puts the executable at /usr/local/bin/k3s-hostprep and the units k3s-hostprep.service (runs apply before
k3s.service and k3s-agent.service, which require it), k3s-hostprep-service-accounts.service and its timer,
and k3s-hostprep-watch.service when the configuration says watch.enabled: true, in /etc/systemd/system, and
enables them: through systemctl when systemd runs this host, else (and always under --root) by writing the
symlinks systemctl enable writes. Idempotent. Must run as root.`,
  options: {
    root: ROOT_INSTALL,
    binary: BINARY,
    config: withHelp(CONFIG, 'configuration to read watch.enabled from (default /etc/k3s-hostprep/config.yaml, optional)'),
    force: withHelp(FORCE, 'replace unit files written by someone else (a backup is kept beside them)'),
  },
  async run({ values }, io) {
    const host = openHost(values.root);
    if (host.euid !== 0) throw new HostError('install must run as root: nothing was changed');
    const config = await loadConfig(host, values.config);
    const report = await installUnits(host, { force: values.force ?? false, binary: await binarySource(values.binary, values.root), watch: config.watch.enabled });
    return finish('install', report, io);
  },
});

export const uninstall = command({
  name: 'uninstall',
  summary: 'undo install exactly',
  description: `Undoes install: disables the units (systemctl, or removing the same symlinks; the timer and the watch are
also stopped, the gate unit is not, since K3s requires it), removes the unit files, the executable and the
directories install created. Unit files that were edited or not written by k3s-hostprep are left alone
unless --force is given (a backup is kept). Idempotent. Must run as root.`,
  options: {
    root: withHelp(ROOT, 'uninstall from an offline root'),
    force: withHelp(FORCE, 'remove unit files written or edited by someone else (a backup is kept beside them)'),
  },
  async run({ values }, io) {
    const host = openHost(values.root);
    if (host.euid !== 0) throw new HostError('uninstall must run as root: nothing was changed');
    return finish('uninstall', await uninstallUnits(host, { force: values.force ?? false }), io);
  },
});
