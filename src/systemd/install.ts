/**
 * `install` and `uninstall`: the binary at /usr/local/bin/k3s-hostprep, the unit files in
 * /etc/systemd/system, and the symlinks `systemctl enable` makes for them. On a host where
 * systemd runs, enabling and disabling go through systemctl; under --root, or where systemd is
 * not running, the same symlinks are written directly. Both are idempotent: what is already in
 * place is left untouched, and a file or link someone else put at one of our paths is reported,
 * not replaced (--force replaces a file after a backup).
 */
import * as path from 'node:path';
import type { Host } from '../host/host.js';
import {
  RECORD_PATH,
  applyChanges,
  planDirectory,
  planFile,
  readRecord,
  recordIntent,
  recordWritten,
  recordedOwnership,
  sha256Bytes,
} from '../controls/managed.js';
import type { Change, Finding } from '../controls/types.js';
import { fail } from '../controls/types.js';
import { describeError } from '../errors.js';
import { describeChange } from '../report/text.js';
import { BIN_PATH, GATE_UNIT, UNIT_DIR, UNITS, WATCH_UNIT, enableLinks, unitFileSpec, unitPath, type UnitFile } from './units.js';

/**
 * What becomes /usr/local/bin/k3s-hostprep: the running single executable or a file named by
 * --binary; or, for a k3s-hostprep that runs under Node.js, its bundle (dist/), copied into
 * LIB_DIR, and a launcher that runs it from there. Either way what runs at every boot is a root-owned
 * copy: never the files of a checkout, which their owner could change after install.
 */
export type BinarySource =
  | { kind: 'file'; path: string; content: Uint8Array }
  | { kind: 'bundle'; node: string; files: ReadonlyArray<{ name: string; content: Uint8Array }> };

/** Where install copies a Node.js bundle: root-owned, outside /home and /root (ProtectHome=yes in the units). */
export const LIB_DIR = '/usr/local/lib/k3s-hostprep';

export interface InstallReport {
  command: 'install' | 'uninstall';
  root: string;
  /** systemctl (systemd runs this host) or symlinks (offline root, or no systemd). */
  via: 'systemctl' | 'symlinks';
  done: string[];
  unchanged: string[];
  blocked: Finding[];
  hostErrors: string[];
  exitCode: 0 | 1 | 3;
}

export interface InstallOptions {
  force: boolean;
  binary: BinarySource;
  /** Also install and enable k3s-hostprep-watch.service (watch.enabled in the configuration). */
  watch?: boolean;
}

/** A launcher for a k3s-hostprep that runs under Node.js from its package directory. */
export function launcherScript(node: string, script: string): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n# k3s-hostprep launcher, written by k3s-hostprep install.\nexec ${quote(node)} ${quote(script)} "$@"\n`;
}

function binaryContent(source: BinarySource): Uint8Array {
  return source.kind === 'file' ? source.content : Buffer.from(launcherScript(source.node, `${LIB_DIR}/cli.js`), 'utf8');
}

/** The bundle's files under LIB_DIR: written when their content differs, each recorded. */
function installBundle(
  host: Host,
  source: Extract<BinarySource, { kind: 'bundle' }>,
  report: Omit<InstallReport, 'exitCode'>,
  written: Record<string, string>,
): void {
  const dirs = [LIB_DIR, ...new Set(source.files.map((f) => path.posix.dirname(`${LIB_DIR}/${f.name}`)).filter((d) => d !== LIB_DIR))];
  for (const dir of dirs) {
    const plan = planDirectory(host, { path: dir, mode: 0o755, ancestorMode: () => 0o755, enforce: true });
    report.blocked.push(...plan.blocked);
    if (plan.blocked.length > 0) return;
    const outcome = applyChanges(host, plan.changes);
    report.hostErrors.push(...outcome.hostErrors);
    report.done.push(...outcome.done.map(describeChange));
    if (outcome.hostErrors.length > 0) return;
  }
  for (const file of source.files) {
    const target = `${LIB_DIR}/${file.name}`;
    try {
      const stat = host.lstat(target);
      if (stat && !stat.isFile()) {
        report.blocked.push(fail(target, 'a regular file', 'not a regular file', `${target} is not a regular file; move it away and run install again.`));
        continue;
      }
      const current = stat ? host.readFile(target, { trust: false, maxBytes: MAX_INSTALLED_BYTES }) : null;
      if (sameBytes(current, file.content) && stat && (stat.mode & 0o7777) === 0o644 && stat.uid === 0) report.unchanged.push(target);
      else {
        recordIntent(host, { [target]: sha256Bytes(file.content) });
        host.writeFileAtomic(target, file.content, { mode: 0o644, uid: 0, gid: 0 });
        report.done.push(`${current === null ? 'create' : 'update'} ${target} (mode 0644, ${file.content.length} bytes)`);
      }
      written[target] = sha256Bytes(file.content);
    } catch (error) {
      report.hostErrors.push(`write ${target}: ${describeError(error)}`);
    }
  }
}

/** The single executable is large; nothing installed is larger than this. */
const MAX_INSTALLED_BYTES = 512 * 1024 * 1024;

/** Whether systemd manages the host install runs on: PID 1 is systemd (sd_booted) and no --root. */
export function systemdRuns(host: Host): boolean {
  return host.live && host.root === '/' && (host.lstat('/run/systemd/system')?.isDirectory() ?? false);
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && Buffer.from(a).equals(Buffer.from(b));
}

type LinkState = 'missing' | 'ours' | 'other-link' | 'not-a-link';

function linkState(host: Host, link: string, target: string): { state: LinkState; actual: string } {
  const stat = host.lstat(link);
  if (stat === null) return { state: 'missing', actual: 'missing' };
  if (!stat.isSymbolicLink()) return { state: 'not-a-link', actual: stat.isDirectory() ? 'a directory' : 'a file' };
  const to = host.readLink(link);
  return to === target ? { state: 'ours', actual: to } : { state: 'other-link', actual: `a symlink to ${to}` };
}

function summarize(report: Omit<InstallReport, 'exitCode'>): InstallReport {
  const exitCode = report.hostErrors.length > 0 ? 3 : report.blocked.length > 0 ? 1 : 0;
  return { ...report, exitCode };
}

async function systemctl(host: Host, args: string[], report: Omit<InstallReport, 'exitCode'>): Promise<boolean> {
  const result = await host.run('systemctl', args);
  if (result.exitCode === 0) {
    report.done.push(`systemctl ${args.join(' ')}`);
    return true;
  }
  report.hostErrors.push(`${result.command} exited ${result.exitCode}: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  return false;
}

/**
 * The directories install created, so that uninstall removes exactly those (when empty): a
 * fresh image root gets /usr/local/bin and /etc/systemd/system from install, and loses them
 * again with uninstall. Only these may be listed: uninstall ignores any other line.
 */
export const INSTALL_RECORD = '/var/lib/k3s-hostprep/installed-directories';
const RECORDABLE = new Set([
  '/usr',
  '/usr/local',
  '/usr/local/bin',
  '/etc',
  '/etc/systemd',
  UNIT_DIR,
  '/var',
  '/var/lib',
  '/var/lib/k3s-hostprep',
  ...enableLinks([...UNITS, WATCH_UNIT]).map((l) => path.dirname(l.link)),
]);

function readCreated(host: Host): string[] {
  const stat = host.lstat(INSTALL_RECORD);
  if (!stat?.isFile() || stat.uid !== 0) return [];
  return (host.readText(INSTALL_RECORD) ?? '').split('\n').filter((line) => RECORDABLE.has(line));
}

function recordCreated(host: Host, done: readonly Change[], report: Omit<InstallReport, 'exitCode'>): void {
  const created = done.filter((c) => c.kind === 'mkdir').map((c) => c.path);
  if (created.length === 0) return;
  try {
    const before = readCreated(host);
    const missing: string[] = [];
    for (let dir = path.posix.dirname(INSTALL_RECORD); dir !== '/' && host.lstat(dir) === null; dir = path.posix.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) host.mkdir(dir, 0o755);
    const all = [...new Set([...before, ...created, ...missing])].filter((d) => RECORDABLE.has(d));
    host.writeFileAtomic(INSTALL_RECORD, all.join('\n') + '\n', { mode: 0o600, uid: 0, gid: 0 });
  } catch (error) {
    report.hostErrors.push(`record ${INSTALL_RECORD}: ${describeError(error)}`);
  }
}

export async function install(host: Host, options: InstallOptions): Promise<InstallReport> {
  const via = systemdRuns(host) ? 'systemctl' : 'symlinks';
  const report: Omit<InstallReport, 'exitCode'> = { command: 'install', root: host.root, via, done: [], unchanged: [], blocked: [], hostErrors: [] };
  const made: Change[] = [];
  // The record of what was written (RECORD_PATH) may create its directories too: install made those.
  const recordDirs = ['/var', '/var/lib', path.posix.dirname(RECORD_PATH)];
  const absent = recordDirs.filter((d) => host.lstat(d) === null);
  try {
    return await installInto(host, options, report, made);
  } finally {
    for (const d of absent) if (host.lstat(d)?.isDirectory()) made.push({ kind: 'mkdir', path: d, mode: 0o755 });
    recordCreated(host, made, report);
  }
}

async function installInto(host: Host, options: InstallOptions, report: Omit<InstallReport, 'exitCode'>, made: Change[]): Promise<InstallReport> {
  const via = report.via;

  // The bundle and the binary first: a unit pointing at nothing would fail at boot.
  const written: Record<string, string> = {};
  if (options.binary.kind === 'bundle') {
    installBundle(host, options.binary, report, written);
    if (report.blocked.length > 0 || report.hostErrors.length > 0) return summarize(report);
  }
  const content = binaryContent(options.binary);
  const binStat = host.lstat(BIN_PATH);
  if (binStat?.isSymbolicLink() || (binStat && !binStat.isFile())) {
    report.blocked.push(
      fail(
        BIN_PATH,
        'the k3s-hostprep executable',
        binStat.isSymbolicLink() ? 'a symlink' : 'not a regular file',
        `${BIN_PATH} is not a regular file; k3s-hostprep never writes through a symlink. Move it away and run install again.`,
      ),
    );
  } else {
    let current: Uint8Array | null = null;
    try {
      current = binStat ? host.readFile(BIN_PATH, { trust: false, maxBytes: MAX_INSTALLED_BYTES }) : null;
    } catch (error) {
      report.hostErrors.push(`read ${BIN_PATH}: ${describeError(error)}`);
    }
    const parent = planDirectory(host, { path: path.dirname(BIN_PATH), mode: 0o755, ancestorMode: () => 0o755, enforce: false });
    report.blocked.push(...parent.blocked);
    if (parent.blocked.length === 0) {
      const changes: Change[] = [...parent.changes];
      const outcome = applyChanges(host, changes);
      made.push(...outcome.done);
      report.hostErrors.push(...outcome.hostErrors);
      report.done.push(...outcome.done.map(describeChange));
      if (sameBytes(current, content) && binStat && (binStat.mode & 0o7777) === 0o755 && binStat.uid === 0) {
        report.unchanged.push(BIN_PATH);
        written[BIN_PATH] = sha256Bytes(content);
      } else {
        try {
          recordIntent(host, { [BIN_PATH]: sha256Bytes(content) });
          host.writeFileAtomic(BIN_PATH, content, { mode: 0o755, uid: 0, gid: 0 });
          report.done.push(`${current === null ? 'create' : 'update'} ${BIN_PATH} (mode 0755, ${content.length} bytes)`);
          written[BIN_PATH] = sha256Bytes(content);
        } catch (error) {
          report.hostErrors.push(`write ${BIN_PATH}: ${describeError(error)}`);
        }
      }
    }
  }
  recordOrReport(host, written, report.hostErrors);

  // The unit files, as managed files: a foreign file at our path is reported, not replaced.
  const units: readonly UnitFile[] = options.watch ? [...UNITS, WATCH_UNIT] : UNITS;
  let unitsChanged = false;
  for (const unit of units) {
    const plan = planFile(host, unitFileSpec(unit), options.force);
    // The managed-file message names apply; here it is install that replaces a unit file.
    report.blocked.push(
      ...plan.blocked.map((b) => ({ ...b, reason: b.reason.replace(/run apply --force to replace it/g, 'run install --force to replace it') })),
    );
    if (plan.blocked.length > 0) continue;
    if (plan.changes.length === 0) {
      report.unchanged.push(unitPath(unit.name));
      continue;
    }
    const outcome = applyChanges(host, plan.changes);
    made.push(...outcome.done);
    report.hostErrors.push(...outcome.hostErrors);
    report.done.push(...outcome.done.map(describeChange), ...outcome.backups.map((b) => `backup kept: ${b}`));
    unitsChanged = true;
  }
  if (report.blocked.length > 0 || report.hostErrors.length > 0) return summarize(report);

  // Enabling: the same symlinks either way.
  const links = enableLinks(units);
  const missing: typeof links = [];
  for (const l of links) {
    const { state, actual } = linkState(host, l.link, l.target);
    if (state === 'ours') report.unchanged.push(`${l.link} -> ${l.target}`);
    else if (state === 'missing') missing.push(l);
    else report.blocked.push(fail(l.link, `a symlink to ${l.target}`, actual, `${l.link} is ${actual}; it is left alone. Remove it and run install again.`));
  }
  if (report.blocked.length > 0) return summarize(report);
  if (via === 'systemctl') {
    if (unitsChanged || missing.length > 0) await systemctl(host, ['daemon-reload'], report);
    if (missing.length > 0) {
      const units = [...new Set(missing.map((l) => path.basename(l.target)))];
      if (await systemctl(host, ['enable', ...units], report)) {
        for (const l of missing) {
          if (linkState(host, l.link, l.target).state !== 'ours') report.hostErrors.push(`systemctl enable did not create ${l.link} -> ${l.target}`);
        }
      }
    }
  } else {
    for (const l of missing) {
      try {
        const parent = planDirectory(host, { path: path.dirname(l.link), mode: 0o755, ancestorMode: () => 0o755, enforce: false });
        if (parent.blocked.length > 0) {
          report.blocked.push(...parent.blocked);
          continue;
        }
        const outcome = applyChanges(host, parent.changes);
        made.push(...outcome.done);
        report.hostErrors.push(...outcome.hostErrors);
        if (outcome.hostErrors.length > 0) continue;
        host.symlink(l.target, l.link);
        report.done.push(`symlink ${l.link} -> ${l.target}`);
      } catch (error) {
        report.hostErrors.push(`symlink ${l.link}: ${describeError(error)}`);
      }
    }
  }
  return summarize(report);
}

export async function uninstall(host: Host, options: { force: boolean }): Promise<InstallReport> {
  const via = systemdRuns(host) ? 'systemctl' : 'symlinks';
  const report: Omit<InstallReport, 'exitCode'> = { command: 'uninstall', root: host.root, via, done: [], unchanged: [], blocked: [], hostErrors: [] };
  // The watch unit is undone when install put it (its file or one of its links is there).
  const watchThere = host.lstat(unitPath(WATCH_UNIT.name)) !== null || enableLinks([WATCH_UNIT]).some((l) => host.lstat(l.link) !== null);
  const units: readonly UnitFile[] = watchThere ? [...UNITS, WATCH_UNIT] : UNITS;
  const links = enableLinks(units);

  // Disabling first, so that nothing points at a unit file that is gone.
  const ours = links.filter((l) => linkState(host, l.link, l.target).state === 'ours');
  for (const l of links) {
    const { state, actual } = linkState(host, l.link, l.target);
    if (state === 'missing') report.unchanged.push(`${l.link} (absent)`);
    else if (state !== 'ours') report.unchanged.push(`${l.link} (${actual}: not k3s-hostprep's, left alone)`);
  }
  if (via === 'systemctl' && ours.length > 0) {
    // The timer is stopped too; the gate is not: stopping it would stop K3s, which requires it.
    for (const unit of [...new Set(ours.map((l) => path.basename(l.target)))]) {
      await systemctl(host, unit === GATE_UNIT ? ['disable', unit] : ['disable', '--now', unit], report);
    }
    for (const l of ours) if (linkState(host, l.link, l.target).state === 'ours') report.hostErrors.push(`systemctl disable left ${l.link}`);
  } else {
    for (const l of ours) {
      try {
        host.remove(l.link);
        report.done.push(`remove ${l.link}`);
      } catch (error) {
        report.hostErrors.push(`remove ${l.link}: ${describeError(error)}`);
      }
    }
  }
  // The link directories install may have created, when nothing else is left in them.
  for (const dir of new Set(links.map((l) => path.dirname(l.link)))) {
    const names = host.readDir(dir);
    if (names === null || names.length > 0 || !host.lstat(dir)?.isDirectory()) continue;
    try {
      host.removeDir(dir);
      report.done.push(`rmdir ${dir}`);
    } catch (error) {
      report.hostErrors.push(`rmdir ${dir}: ${describeError(error)}`);
    }
  }

  let unitsRemoved = false;
  const unitForget: Record<string, null> = {};
  for (const unit of units) {
    const p = unitPath(unit.name);
    const stat = host.lstat(p);
    if (stat === null) {
      report.unchanged.push(`${p} (absent)`);
      continue;
    }
    const who = stat.isFile() ? recordedOwnership(host, p, host.readText(p, { trust: false }) ?? '') : 'foreign';
    if (who !== 'ours' && who !== 'adopted' && !options.force) {
      report.blocked.push(
        fail(
          p,
          'absent',
          who === 'edited' ? 'edited since k3s-hostprep wrote it' : 'not written by k3s-hostprep',
          `${p} is not k3s-hostprep's as written; it is left alone. Remove it by hand, or run uninstall --force (a backup is kept).`,
        ),
      );
      continue;
    }
    try {
      if (who !== 'ours' && stat.isFile()) report.done.push(`backup kept: ${host.backup(p)}`);
      host.remove(p);
      unitForget[p] = null;
      report.done.push(`remove ${p}`);
      unitsRemoved = true;
    } catch (error) {
      report.hostErrors.push(`remove ${p}: ${describeError(error)}`);
    }
  }
  if (via === 'systemctl' && (unitsRemoved || ours.length > 0)) await systemctl(host, ['daemon-reload'], report);

  // The executable and the bundle: removed only where the content is what install recorded writing.
  const record = readRecord(host);
  const forget: Record<string, null> = { ...unitForget };
  const installed = [
    BIN_PATH,
    ...Object.keys(record)
      .filter((p) => p.startsWith(`${LIB_DIR}/`))
      .sort()
      .reverse(),
  ];
  for (const p of installed) {
    const stat = host.lstat(p);
    if (stat === null) {
      if (p === BIN_PATH) report.unchanged.push(`${BIN_PATH} (absent)`);
      forget[p] = null;
      continue;
    }
    let ours = false;
    try {
      ours = stat.isFile() && record[p]?.includes(sha256Bytes(host.readFile(p, { trust: false, maxBytes: MAX_INSTALLED_BYTES }) ?? new Uint8Array())) === true;
    } catch (error) {
      report.hostErrors.push(`read ${p}: ${describeError(error)}`);
      continue;
    }
    if (!ours) {
      report.unchanged.push(`${p} (not what k3s-hostprep install wrote: left alone)`);
      continue;
    }
    try {
      host.remove(p);
      forget[p] = null;
      report.done.push(`remove ${p}`);
    } catch (error) {
      report.hostErrors.push(`remove ${p}: ${describeError(error)}`);
    }
  }
  // The bundle's directories, deepest first (scripts/bundle.mjs: lib/ holds the libraries, lib/rows/ the benchmarks' rows).
  for (const dir of [`${LIB_DIR}/lib/rows`, `${LIB_DIR}/lib`, LIB_DIR]) {
    const names = host.readDir(dir);
    if (names === null || names.length > 0 || !host.lstat(dir)?.isDirectory()) continue;
    try {
      host.removeDir(dir);
      report.done.push(`rmdir ${dir}`);
    } catch (error) {
      report.hostErrors.push(`rmdir ${dir}: ${describeError(error)}`);
    }
  }
  recordOrReport(host, forget, report.hostErrors);
  // The directories install created, deepest first, each only when nothing else is in it.
  const created = readCreated(host);
  if (created.length > 0 && report.blocked.length === 0 && report.hostErrors.length === 0) {
    try {
      host.remove(INSTALL_RECORD);
    } catch (error) {
      report.hostErrors.push(`remove ${INSTALL_RECORD}: ${describeError(error)}`);
    }
    for (const dir of [...created].sort((a, b) => b.split('/').length - a.split('/').length)) {
      const names = host.readDir(dir);
      if (names === null || names.length > 0 || !host.lstat(dir)?.isDirectory()) continue;
      try {
        host.removeDir(dir);
        report.done.push(`rmdir ${dir} (install created it)`);
      } catch (error) {
        report.hostErrors.push(`rmdir ${dir}: ${describeError(error)}`);
      }
    }
  }
  return summarize(report);
}

export function renderInstallReport(report: InstallReport): string {
  const out = [`k3s-hostprep ${report.command}${report.root !== '/' ? ` (root: ${report.root})` : ''}, enabling through ${report.via}`];
  if (report.done.length === 0) out.push('Changes: nothing to change.');
  else {
    out.push(`Changes made (${report.done.length}):`);
    for (const d of report.done) out.push(`  ${d}`);
  }
  const absent = report.unchanged.filter((u) => u.endsWith(' (absent)'));
  const kept = report.unchanged.filter((u) => !u.endsWith(' (absent)'));
  if (kept.length > 0) {
    out.push(`${report.command === 'install' ? 'Already in place' : 'Left alone'} (${kept.length}):`);
    for (const u of kept) out.push(`  ${u}`);
  }
  if (absent.length > 0) {
    out.push(`Already absent (${absent.length}):`);
    for (const u of absent) out.push(`  ${u.slice(0, -' (absent)'.length)}`);
  }
  if (report.blocked.length > 0) {
    out.push('Blocked:');
    for (const b of report.blocked) out.push(`  ${b.item}: ${b.reason}`);
  }
  if (report.hostErrors.length > 0) {
    out.push('Host errors:');
    for (const e of report.hostErrors) out.push(`  ${e}`);
  }
  const what = report.command === 'install' ? 'installed and enabled' : 'removed';
  out.push(
    report.exitCode === 0
      ? `Result: k3s-hostprep ${what}.`
      : report.exitCode === 1
        ? `Result: BLOCKED: ${report.blocked.length} path(s) need the operator.`
        : 'Result: HOST ERROR: the host could not be changed.',
  );
  return out.join('\n') + '\n';
}

/** Records what was written (or, for null, forgotten); a record that cannot be saved is a host error, gathered with the rest. */
function recordOrReport(host: Host, entries: Record<string, string | null>, hostErrors: string[]): void {
  try {
    recordWritten(host, entries);
  } catch (error) {
    hostErrors.push(`record ${RECORD_PATH}: ${describeError(error)}`);
  }
}
