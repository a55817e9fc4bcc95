#!/usr/bin/env node
/** The edge: parses the command line, runs, renders, and maps errors to exit codes. */
import * as fs from 'node:fs';
import { parseInvocation, type Invocation } from './args.js';
import { findArtefact, renderArtefact, ARTEFACTS } from './artefacts.js';
import { DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, defaultConfig } from './config/defaults.js';
import type { Config } from './config/schema.js';
import { run } from './engine.js';
import { ConfigError, EXIT, HostError, HostprepError, UsageError, describeError } from './errors.js';
import { commandHelp } from './help.js';
import type { Host } from './host/host.js';
import { DEFAULT_WAIT_SECONDS, acquireRunLock, type Lock } from './host/lock.js';
import { NodeHost } from './host/node-host.js';
import * as path from 'node:path';
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
import { FULL_RELEASE, renderCloudInit } from './cloud-init.js';
import { K3S_KUBECONFIG, chooseKubectl, kubeconfigArgs, renderServiceAccountsReport, secureServiceAccounts } from './kube/service-accounts.js';
import { findExecutable, runProgram } from './host/exec.js';
import { liveSysctlProblem } from './sysctl/extra.js';
import { KUBELET_SYSCTLS } from './controls/kubelet-sysctls.js';
import { failureLine } from './report/failure-line.js';
import { install, renderInstallReport, uninstall, type BinarySource } from './systemd/install.js';

/**
 * Reads a configuration file through the host's one reader: a regular file of at most
 * MAX_CONFIG_BYTES that only root can change, in directories only root can change (on its
 * written and its resolved path), or null when there is none. Anything else is a ConfigError
 * (exit 2) naming the file and the fix: a root agent never takes instructions from a file
 * another user could have written.
 */
function readConfigBytes(host: Host, logical: string, shown: string, optional: boolean): Uint8Array | null {
  let bytes: Uint8Array | null;
  try {
    bytes = host.readFile(logical, { maxBytes: MAX_CONFIG_BYTES });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EFBIG') {
      const size = /is (\d+) bytes/.exec(describeError(error))?.[1];
      throw new ConfigError(shown, [`the configuration file is ${size ?? 'more than'} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`], { cause: error });
    }
    if (code === 'ESPECIAL') throw new ConfigError(shown, ['cannot read the configuration file: not a regular file'], { cause: error });
    if (code === 'EUNTRUSTED') throw new ConfigError(shown, [`not trusted: ${describeError(error)}`], { cause: error });
    throw new ConfigError(shown, [`cannot read the configuration file: ${describeError(error)}`], { cause: error });
  }
  if (bytes === null && !optional) throw new ConfigError(shown, ['cannot read the configuration file: ENOENT: no such file or directory']);
  return bytes;
}

/** The configuration's bytes and the name it is shown by: --config names a file on this machine, the default lives inside the prepared system. */
function configBytes(host: Host, explicit: string | undefined): { bytes: Uint8Array; shown: string } | null {
  if (explicit !== undefined) {
    const local = path.resolve(explicit);
    const bytes = readConfigBytes(host.root === '/' ? host : new NodeHost('/', false), local, explicit, false)!;
    return { bytes, shown: explicit };
  }
  const shown = host.realPath(DEFAULT_CONFIG_PATH);
  const bytes = readConfigBytes(host, DEFAULT_CONFIG_PATH, shown, true);
  return bytes === null ? null : { bytes, shown };
}

/** The parser (and the YAML library) is loaded only when there is a file to parse. */
export async function loadConfig(host: Host, explicit: string | undefined): Promise<Config> {
  const found = configBytes(host, explicit);
  if (found === null) return defaultConfig();
  const { decodeConfig, parseConfig } = await import('./config/load.js');
  return parseConfig(decodeConfig(found.bytes, found.shown), found.shown);
}

/**
 * Extra kernel parameters must exist in the running kernel and take the value given, before
 * anything is written (exit 2, nothing written). Under --root the image's kernel is not running:
 * only the static rules (schema) apply there.
 */
function checkExtraSysctls(host: Host, config: Config): void {
  if (!host.live) return;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config.sysctl)) {
    if (KUBELET_SYSCTLS.some(([k]) => k === key)) continue;
    let live: string | null;
    try {
      live = host.readSysctl(key);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      live = code === 'ENOENT' || code === 'ENOTDIR' ? null : '';
    }
    const problem = liveSysctlProblem(key, value, live);
    if (problem) problems.push(`sysctl.${key}: ${problem}`);
  }
  if (problems.length > 0) throw new ConfigError(config.source, problems);
}

function openHost(root: string | undefined): Host {
  if (root === undefined) return new NodeHost('/');
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new UsageError(`--root ${root}: expected an existing directory`);
  const host = new NodeHost(root);
  // The root itself is held to the rule: a user who owns the image could swap what is inside it.
  const why = host.untrusted('/');
  if (why !== null) throw new HostError(`--root ${root} is not trusted: ${why}`);
  return host;
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

/** Whether this process is the single executable built by scripts/build-sea. */
async function isSingleExecutable(): Promise<boolean> {
  try {
    const sea = (await import('node:sea')) as { isSea?: () => boolean };
    return sea.isSea?.() ?? false;
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
    throw new UsageError('install --root needs the single executable (scripts/build-sea) or --binary FILE: this k3s-hostprep runs under Node.js from files of this machine');
  }
  const node = fs.realpathSync(process.execPath);
  if (findExecutable(node) === null) {
    throw new HostError(`install: the Node.js binary ${node} is not trusted: ${local.untrusted(node) ?? 'it is not a root-owned executable'}. Install Node.js as root (a package), or use the single executable (scripts/build-sea).`);
  }
  const dist = path.dirname(fs.realpathSync(process.argv[1] ?? ''));
  const names = ['cli.js', 'main.cjs', 'package.json', ...(local.readDir(path.join(dist, 'lib')) ?? []).filter((n) => n.endsWith('.cjs')).map((n) => `lib/${n}`)];
  return { kind: 'bundle', node, files: names.map((name) => ({ name, content: read(path.join(dist, name), 'the bundle file') })) };
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
    if (invocation.command === 'service-accounts') {
      const kubectl = chooseKubectl();
      if (kubectl === null) throw new HostError('service-accounts: neither k3s nor kubectl was found as a root-owned executable in the system directories');
      const [bin, ...prefix] = kubectl;
      const host = new NodeHost('/');
      const kubeconfig = kubeconfigArgs(invocation.kubeconfig === undefined ? K3S_KUBECONFIG : path.resolve(invocation.kubeconfig), (f) => host.untrusted(f));
      const report = await secureServiceAccounts((args) => runProgram(bin!, [...prefix, ...kubeconfig, ...args], { timeoutMs: 60_000 }), kubectl.join(' '), {
        timeoutMs: (invocation.timeoutSeconds ?? 300) * 1000,
      });
      out.write(invocation.json ? JSON.stringify(report, null, 2) + '\n' : renderServiceAccountsReport(report));
      if (report.exitCode !== 0) err.write(`k3s-hostprep: service-accounts: ${report.errors[0]}\n`);
      return report.exitCode;
    }
    const host = openHost(invocation.root);
    // Before the configuration is read: a non-root apply stops here whatever the config says.
    if (invocation.command === 'apply' && host.euid !== 0) {
      throw new HostError('apply must run as root: nothing was changed');
    }
    if (invocation.command === 'install' || invocation.command === 'uninstall') {
      if (host.euid !== 0) throw new HostError(`${invocation.command} must run as root: nothing was changed`);
      const report = invocation.command === 'install'
        ? await install(host, { force: invocation.force, binary: await binarySource(invocation.binary, invocation.root), watch: (await loadConfig(host, invocation.config)).watch.enabled })
        : await uninstall(host, { force: invocation.force });
      out.write(renderInstallReport(report));
      if (report.exitCode !== 0) err.write(`k3s-hostprep: ${invocation.command}: ${report.hostErrors[0] ?? report.blocked[0]?.reason ?? 'failed'}\n`);
      return report.exitCode;
    }
    const config = await loadConfig(host, invocation.config);
    if (invocation.command !== 'render') checkExtraSysctls(host, config);
    const roleChoice = chooseRole(host, invocation.role, config.role, config.source);
    const k3s = await chooseK3sVersion(host, invocation.k3sVersion, config, process.env.INSTALL_K3S_VERSION);
    const ctx = { host, config, role: roleChoice.role, force: invocation.force, k3s };

    if (invocation.command === 'render') {
      const name = invocation.artefact;
      const cloudFlags = invocation.agentUrl ?? invocation.agentSha256;
      if (name === 'cloud-init') {
        // The release the K3s installer installs: --k3s-version, else the config's when it names one release.
        const fromConfig = config.k3sVersion !== undefined && FULL_RELEASE.test(config.k3sVersion) ? config.k3sVersion : undefined;
        const pinned = invocation.k3sVersion ?? fromConfig;
        const configFile = configBytes(host, invocation.config);
        out.write(renderCloudInit({
          role: roleChoice.role,
          configText: configFile === null ? null : Buffer.from(configFile.bytes).toString('utf8'),
          ...(invocation.k3sInstallerSha256 !== undefined ? { k3sInstallerSha256: invocation.k3sInstallerSha256 } : {}),
          agentUrl: invocation.agentUrl!,
          agentSha256: invocation.agentSha256!,
          ...(pinned !== undefined ? { k3sVersion: pinned } : {}),
        }));
        return EXIT.compliant;
      }
      if (cloudFlags !== undefined) throw new UsageError('--agent-url and --agent-sha256 are for render cloud-init only');
      const artefact = name === undefined ? undefined : findArtefact(name);
      if (!artefact) throw new UsageError(`render: ${name === undefined ? 'missing artefact' : `unknown artefact "${name}"`}; expected one of ${[...ARTEFACTS.map((a) => a.name), 'cloud-init'].join(', ')}`);
      if (artefact.name === 'psa' && !needsAdmissionConfig(config, k3s.version)) {
        throw new UsageError(`render psa: K3s ${k3s.version.text} (${k3s.source}) gets no psa.yaml: Pod Security admission starts with v1.25 and eventRateLimit is not configured`);
      }
      out.write(renderArtefact(artefact, ctx));
      return EXIT.compliant;
    }
    if (invocation.command === 'watch') return await runWatch(ctx, roleChoice, invocation, out, err);
    // Only apply changes the host, so only apply is serialised; check and plan read, and a
    // reader never sees a torn file because every write is a rename.
    if (invocation.command === 'apply') lock = await acquireRunLock({ root: host.root, waitSeconds: invocation.wait ?? DEFAULT_WAIT_SECONDS });
    const report = await run(ctx, { command: invocation.command, roleChoice, facts: true });
    if (invocation.json) out.write(renderJson(report));
    // diff (for plan) is loaded only for plan.
    else out.write((invocation.command === 'plan' ? (await import('./report/diff.js')).renderPlan(report) : '') + renderText(report));
    if (report.exitCode !== 0 && invocation.command !== 'plan') err.write(failureLine(report, journalStream()));
    return Math.max(report.exitCode, writeOutputs(report, ctx, invocation, err));
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

// No top-level await: the single executable (scripts/build-sea) runs this file as CommonJS.
void main(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
  process.exitCode = code;
});
