#!/usr/bin/env node
/** The edge: parses the command line, runs, renders, and maps errors to exit codes. */
import * as fs from 'node:fs';
import { parseInvocation, type Invocation } from './args.js';
import { findArtefact, renderArtefact, ARTEFACTS } from './artefacts.js';
import { DEFAULT_CONFIG_PATH, defaultConfig } from './config/defaults.js';
import type { Config } from './config/schema.js';
import { run } from './engine.js';
import { ConfigError, EXIT, HostError, HostprepError, UsageError, describeError } from './errors.js';
import { commandHelp } from './help.js';
import type { Host } from './host/host.js';
import { NodeHost } from './host/node-host.js';
import { renderJson } from './report/json.js';
import { renderText } from './report/text.js';
import { renderJunit } from './report/junit.js';
import { renderMetrics } from './report/prometheus.js';
import { writeLocalFile, writeMetricsFile } from './outputs.js';
import type { Report } from './report/model.js';
import { chooseRole, type RoleChoice } from './role.js';
import { journalStream } from './watch/journal.js';
import { watch } from './watch/loop.js';
import type { Context } from './controls/types.js';
import { VERSION } from './version.js';
import { chooseK3sVersion } from './k3s/choose.js';
import { needsAdmissionConfig } from './k3s/settings.js';

/**
 * --config names a file on this machine; the default lives inside the prepared system. The
 * parser (and the YAML library) is loaded only when there is a file to parse.
 */
export async function loadConfig(host: Host, explicit: string | undefined): Promise<Config> {
  if (explicit !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(explicit, 'utf8');
    } catch (error) {
      throw new ConfigError(explicit, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
    }
    return (await import('./config/load.js')).parseConfig(text, explicit);
  }
  let text: string | null;
  try {
    text = host.readText(DEFAULT_CONFIG_PATH);
  } catch (error) {
    throw new ConfigError(host.realPath(DEFAULT_CONFIG_PATH), [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  return text === null ? defaultConfig() : (await import('./config/load.js')).parseConfig(text, host.realPath(DEFAULT_CONFIG_PATH));
}

function openHost(root: string | undefined): Host {
  if (root === undefined) return new NodeHost('/');
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new UsageError(`--root ${root}: expected an existing directory`);
  return new NodeHost(root);
}

/** The JUnit file (--junit) and the metrics file (metrics.textfilePath); a failure to write is exit 3. */
function writeOutputs(report: Report, ctx: { host: Host; config: Config }, invocation: Invocation, err: NodeJS.WritableStream): number {
  let code: number = EXIT.compliant;
  if (invocation.junit !== undefined) {
    try {
      writeLocalFile(invocation.junit, renderJunit(report));
    } catch (error) {
      err.write(`k3s-hostprep: cannot write the JUnit report to ${invocation.junit}: ${describeError(error)}\n`);
      code = EXIT.host;
    }
  }
  // Metrics describe this machine: an offline root (--root) gets none.
  const metricsPath = ctx.config.metrics.textfilePath;
  if (metricsPath !== undefined && ctx.host.live) {
    try {
      writeMetricsFile(ctx.host, metricsPath, renderMetrics({ report, now: Date.now() }));
    } catch (error) {
      err.write(`k3s-hostprep: cannot write metrics to ${metricsPath}: ${describeError(error)}\n`);
      code = EXIT.host;
    }
  }
  return code;
}

async function runWatch(ctx: Context, roleChoice: RoleChoice, invocation: Invocation, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (ctx.config.watch.remediate && ctx.host.euid !== 0) throw new HostError('watch with watch.remediate: true must run as root');
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const stats = await watch({
      ctx,
      roleChoice,
      intervalMs: ctx.config.watch.interval * 1000,
      remediate: ctx.config.watch.remediate,
      ...(ctx.config.metrics.textfilePath !== undefined ? { metricsPath: ctx.config.metrics.textfilePath } : {}),
      ...(invocation.cycles !== undefined ? { cycles: invocation.cycles } : {}),
      signal: controller.signal,
      log: (text) => err.write(text),
      prefix: journalStream(),
    });
    if (invocation.cycles !== undefined) out.write(JSON.stringify(stats) + '\n');
    return EXIT.compliant;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let invocation: Invocation | undefined;
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
    const config = await loadConfig(host, invocation.config);
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
    if (invocation.command === 'watch') return await runWatch(ctx, roleChoice, invocation, out, err);
    if (invocation.command === 'apply' && host.euid !== 0) {
      throw new HostError('apply must run as root: nothing was changed');
    }
    const report = await run(ctx, { command: invocation.command, roleChoice, facts: true });
    if (invocation.json) out.write(renderJson(report));
    // diff (for plan) is loaded only for plan.
    else out.write((invocation.command === 'plan' ? (await import('./report/diff.js')).renderPlan(report) : '') + renderText(report));
    return Math.max(report.exitCode, writeOutputs(report, ctx, invocation, err));
  } catch (error) {
    const known = error instanceof HostprepError;
    const code = known ? error.exitCode : EXIT.host;
    const message = known ? error.message : `unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    if (invocation?.json) out.write(JSON.stringify({ tool: 'k3s-hostprep', error: { type: known ? error.name : 'Error', message }, exitCode: code }, null, 2) + '\n');
    err.write(`k3s-hostprep: ${message}\n`);
    return code;
  }
}

void main(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
  process.exitCode = code;
});
