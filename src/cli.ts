#!/usr/bin/env node
/** The edge: parses the command line, runs, renders, and maps errors to exit codes. */
import * as fs from 'node:fs';
import { parseInvocation, type Invocation } from './args.js';
import { findArtefact, renderArtefact, ARTEFACTS } from './artefacts.js';
import { DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, decodeConfig, defaultConfig, parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { run } from './engine.js';
import { ConfigError, EXIT, HostError, HostprepError, UsageError, describeError } from './errors.js';
import { commandHelp } from './help.js';
import type { Host } from './host/host.js';
import { DEFAULT_WAIT_SECONDS, acquireRunLock, type Lock } from './host/lock.js';
import { NodeHost } from './host/node-host.js';
import { resolveInRoot } from './host/paths.js';
import { renderPlan } from './report/diff.js';
import { renderJson } from './report/json.js';
import type { Report } from './report/model.js';
import { renderText } from './report/text.js';
import { chooseRole } from './role.js';
import { VERSION } from './version.js';
import { chooseK3sVersion } from './k3s/choose.js';
import { needsAdmissionConfig } from './k3s/settings.js';

/**
 * Reads a configuration file's bytes: a regular file of at most MAX_CONFIG_BYTES (a FIFO, a device
 * or a huge file is refused before it is read), or null when there is none.
 */
function readConfigBytes(real: string, shown: string, optional: boolean): Uint8Array | null {
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(shown, ['cannot read the configuration file: not a regular file']);
    if (stat.size > MAX_CONFIG_BYTES) throw new ConfigError(shown, [`the configuration file is ${stat.size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`]);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = fs.readSync(fd, buffer, length, buffer.length - length, null);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  } finally {
    fs.closeSync(fd);
  }
}

/** --config names a file on this machine; the default lives inside the prepared system. */
export function loadConfig(host: Host, explicit: string | undefined): Config {
  if (explicit !== undefined) {
    const bytes = readConfigBytes(explicit, explicit, false)!;
    return parseConfig(decodeConfig(bytes, explicit), explicit);
  }
  const shown = host.realPath(DEFAULT_CONFIG_PATH);
  let real: string;
  try {
    real = resolveInRoot(host.root, DEFAULT_CONFIG_PATH, true);
  } catch (error) {
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  const bytes = readConfigBytes(real, shown, true);
  return bytes === null ? defaultConfig() : parseConfig(decodeConfig(bytes, shown), shown);
}

function openHost(root: string | undefined): Host {
  if (root === undefined) return new NodeHost('/');
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new UsageError(`--root ${root}: expected an existing directory`);
  return new NodeHost(root);
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let invocation: Invocation | undefined;
  let lock: Lock | undefined;
  try {
    invocation = parseInvocation(argv);
    if (invocation.version) {
      out.write(`${VERSION}\n`);
      return EXIT.compliant;
    }
    if (invocation.help || invocation.command === null) {
      (invocation.help ? out : err).write(commandHelp(invocation.command));
      return invocation.help ? EXIT.compliant : EXIT.usage;
    }
    const host = openHost(invocation.root);
    // Before the configuration is read: a non-root apply stops here whatever the config says.
    if (invocation.command === 'apply' && host.euid !== 0) {
      throw new HostError('apply must run as root: nothing was changed');
    }
    const config = loadConfig(host, invocation.config);
    const roleChoice = chooseRole(host, invocation.role, config.role, config.source);
    const k3s = await chooseK3sVersion(host, invocation.k3sVersion, config, process.env.INSTALL_K3S_VERSION);
    const ctx = { host, config, role: roleChoice.role, force: invocation.force, k3s };

    if (invocation.command === 'render') {
      const name = invocation.artefact;
      const artefact = name === undefined ? undefined : findArtefact(name);
      if (!artefact) throw new UsageError(`render: ${name === undefined ? 'missing artefact' : `unknown artefact "${name}"`}; expected one of ${ARTEFACTS.map((a) => a.name).join(', ')}`);
      if (artefact.name === 'psa' && !needsAdmissionConfig(config, k3s.version)) {
        throw new UsageError(`render psa: K3s ${k3s.version.text} (${k3s.source}) gets no psa.yaml: Pod Security admission starts with v1.25 and eventRateLimit is not configured`);
      }
      out.write(renderArtefact(artefact, ctx));
      return EXIT.compliant;
    }
    // Only apply changes the host, so only apply is serialised; check and plan read, and a
    // reader never sees a torn file because every write is a rename.
    if (invocation.command === 'apply') lock = acquireRunLock({ root: host.root, waitSeconds: invocation.wait ?? DEFAULT_WAIT_SECONDS });
    const report = await run(ctx, { command: invocation.command, roleChoice, facts: true });
    if (invocation.json) out.write(renderJson(report));
    else out.write((invocation.command === 'plan' ? renderPlan(report) : '') + renderText(report));
    if (report.exitCode === 3) err.write(`k3s-hostprep: ${hostErrorLine(report)}\n`);
    return report.exitCode;
  } catch (error) {
    const known = error instanceof HostprepError;
    const code = known ? error.exitCode : EXIT.host;
    const message = known ? error.message : `unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    if (invocation?.json) out.write(JSON.stringify({ tool: 'k3s-hostprep', error: { type: known ? error.name : 'Error', message }, exitCode: code }, null, 2) + '\n');
    err.write(`k3s-hostprep: ${message}\n`);
    return code;
  } finally {
    lock?.release();
  }
}

/** One line for standard error (and the journal) when the host could not be read or changed. */
export function hostErrorLine(report: Report): string {
  const unreadable = report.controls.flatMap((c) => c.findings.filter((f) => f.status === 'error').map((f) => `${f.item}: ${f.reason}`));
  const all = [...report.hostErrors, ...unreadable];
  const more = all.length > 1 ? ` (and ${all.length - 1} more; see the report)` : '';
  return `host error: ${(all[0] ?? 'the host could not be read or changed').replace(/\s*\n\s*/g, '; ')}${more}`;
}

const code = await main(process.argv.slice(2), process.stdout, process.stderr);
process.exitCode = code;
