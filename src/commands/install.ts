import * as fs from 'node:fs';
import * as path from 'node:path';
import { findExecutable } from '../host/exec.js';
import { NodeHost } from '../host/node-host.js';
import { HostError, UsageError, describeError } from '../errors.js';
import { install as installUnits, renderInstallReport, uninstall as uninstallUnits, type BinarySource, type InstallReport } from '../systemd/install.js';
import { command, type Io } from './command.js';
import { loadConfig, openHost } from './context.js';
import { BINARY, CONFIG, FORCE, ROOT, withHelp } from './options.js';

/**
 * Whether this process is the single executable built by scripts/build-sea. node:sea is taken
 * with process.getBuiltinModule (Node.js 20.16 and newer): a single executable runs the bundle
 * from its assets, where a dynamic import() of a built-in module is not available.
 */
async function isSingleExecutable(): Promise<boolean> {
  try {
    const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const sea = (builtin ? builtin('node:sea') : await import('node:sea')) as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() ?? false;
  } catch {
    return false;
  }
}

/**
 * What install puts at /usr/local/bin/k3s-hostprep: --binary, else this single executable, else
 * this package's bundle (dist/) with a launcher. Every source is read through the trusted reader:
 * a file another user could change (a checkout they own, a binary in their directory, a node
 * binary outside root's directories) would run as root at every boot, so it is refused.
 */
async function binarySource(file: string | undefined, root: string | undefined): Promise<BinarySource> {
  const local = new NodeHost('/', false);
  const read = (p: string, what: string) => {
    try {
      const bytes = local.readFile(path.resolve(p), { maxBytes: 512 * 1024 * 1024 });
      if (bytes === null) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
      return bytes;
    } catch (error) {
      const untrusted = (error as NodeJS.ErrnoException).code === 'EUNTRUSTED';
      throw new (untrusted ? HostError : UsageError)(`${what} ${p}: ${untrusted ? 'refused: ' : 'cannot read it: '}${describeError(error)}`, { cause: error });
    }
  };
  if (file !== undefined) return { kind: 'file', path: file, content: read(file, '--binary') };
  if (await isSingleExecutable()) return { kind: 'file', path: process.execPath, content: read(process.execPath, 'this executable') };
  if (root !== undefined) {
    throw new UsageError(
      'install --root needs the single executable (scripts/build-sea) or --binary FILE: this k3s-hostprep runs under Node.js from files of this machine',
    );
  }
  const node = fs.realpathSync(process.execPath);
  if (findExecutable(node) === null) {
    throw new HostError(
      `install: the Node.js binary ${node} is not trusted: ${local.untrusted(node) ?? 'it is not a root-owned executable'}. Install Node.js as root (a package), or use the single executable (scripts/build-sea).`,
    );
  }
  const dist = path.dirname(fs.realpathSync(process.argv[1] ?? ''));
  // The bundle's files (scripts/bundle.mjs) with their code caches: the entry, the command, the
  // libraries and the benchmarks' rows.
  const bundled = (dir: string) => (local.readDir(path.join(dist, dir)) ?? []).filter((n) => /\.cjs(\.v8cache)?$/.test(n)).map((n) => path.posix.join(dir, n));
  const names = ['cli.js', 'package.json', ...bundled('.'), ...bundled('lib'), ...bundled('lib/rows')];
  return { kind: 'bundle', node, files: names.map((name) => ({ name, content: read(path.join(dist, name), 'the bundle file') })) };
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
  description: `Puts the executable at /usr/local/bin/k3s-hostprep (under Node.js: a launcher for a copy of the bundle in
/usr/local/lib/k3s-hostprep; a source another user could change is refused) and the units k3s-hostprep.service (runs apply before
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
    const report = await installUnits(host, {
      force: values.force ?? false,
      binary: await binarySource(values.binary, values.root),
      watch: config.watch.enabled,
    });
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
