/** check, apply and plan: one run of the engine over this host, one report, the output files. */
import { keepDigests, recallDigests } from '../controls/digest-memo.js';
import { run } from '../engine.js';
import { HostError } from '../errors.js';
import { DEFAULT_WAIT_SECONDS, acquireRunLock, type Lock } from '../host/lock.js';
import { failureLine } from '../report/failure-line.js';
import { renderJson } from '../report/json.js';
import { renderText } from '../report/text.js';
import { journalStream } from '../host/journal-stream.js';
import type { Output } from '../host/fd-output.js';
import type { Host } from '../host/host.js';
import { buildId, keepLastRun, replayKey } from '../replay/last-run.js';
import { RecordingHost } from '../replay/recording-host.js';
import type { Io } from './command.js';
import { openHost, prepare, writeOutputs, type HostValues } from './context.js';
import { BENCHMARK, CONFIG, K3S_VERSION, ROLE, ROOT } from './options.js';

/** The options of every command that judges a host. */
export const HOST_OPTIONS = { config: CONFIG, role: ROLE, root: ROOT, k3sVersion: K3S_VERSION, benchmark: BENCHMARK };

export interface ReportValues extends HostValues {
  json?: boolean;
  force?: boolean;
  junit?: string;
  wait?: number;
}

/** An output that also keeps what it was given. */
function keeping(output: Output): Output & { kept: string[] } {
  const kept: string[] = [];
  return {
    kept,
    write: (text: string) => {
      kept.push(text);
      return output.write(text);
    },
  };
}

/**
 * check and apply on the running system, as root, with no file to write besides the report: the
 * run may be remembered for replay (src/replay/last-run.ts), and goes through a host that notes
 * what it learns from the machine.
 */
function recorder(
  command: 'apply' | 'check' | 'plan',
  values: ReportValues,
  io: Io,
  host: Host,
): { command: 'apply' | 'check'; host: RecordingHost; argv: readonly string[]; build: string } | null {
  const build = buildId();
  if (build === null || io.argv === undefined || command === 'plan' || values.root !== undefined || values.junit !== undefined) return null;
  if (host.euid !== 0 || !host.live || !host.writeState) return null;
  return { command, host: new RecordingHost(host), argv: io.argv, build };
}

export async function runReport(command: 'apply' | 'check' | 'plan', values: ReportValues, given: Io): Promise<number> {
  const opened = openHost(values.root);
  const recording = recorder(command, values, given, opened);
  // A run that may be kept keeps its output too: a replay writes it again.
  const kept = recording ? { out: keeping(given.out), err: keeping(given.err) } : null;
  const { code, metrics } = await judgeAndReport(command, values, kept ?? given, recording?.host ?? opened);
  if (recording && kept) {
    const learnt = recording.host.finish();
    // The metrics file carries the time of the run: a run that writes one is not replayed.
    const why = metrics ? 'it writes a metrics file' : 'why' in learnt ? learnt.why : null;
    if (why !== null || 'why' in learnt) {
      if (process.env.K3S_HOSTPREP_TRACE_REPLAY === '1') given.err.write(`replay: this run is not kept: ${why}\n`);
    } else {
      const key = replayKey(recording.argv, recording.build);
      keepLastRun(opened, recording.command, { key, ...learnt, stdout: kept.out.kept.join(''), stderr: kept.err.kept.join(''), exitCode: code });
    }
  }
  return code;
}

/** The run itself: its exit code, and whether it wrote a metrics file. */
async function judgeAndReport(command: 'apply' | 'check' | 'plan', values: ReportValues, io: Io, host: Host): Promise<{ code: number; metrics: boolean }> {
  // Before the configuration is read: a non-root apply stops here whatever the config says.
  if (command === 'apply' && host.euid !== 0) throw new HostError('apply must run as root: nothing was changed');
  // The digests of the files an earlier run rendered: often node:crypto need not be loaded at all.
  recallDigests(host);
  const { ctx, roleChoice } = await prepare(host, values, values.force ?? false);
  let lock: Lock | undefined;
  try {
    // Only apply changes the host, so only apply's changes are serialised, by the run lock taken
    // before the first one (an apply with nothing to change takes none); check and plan read,
    // and a reader never sees a torn file because every write is a rename.
    const beforeChanges =
      command === 'apply'
        ? async () => {
            lock = await acquireRunLock({ root: host.root, waitSeconds: values.wait ?? DEFAULT_WAIT_SECONDS });
          }
        : undefined;
    // What K3s logged and the cluster says: only when K3s has run since boot (no process otherwise).
    if (command !== 'plan') {
      const observed = await (await import('../k3s/observe.js')).observe(host);
      if (observed) ctx.observed = observed;
    }
    const report = await run(ctx, { command, roleChoice, facts: true, beforeChanges });
    if (values.json) io.out.write(renderJson(report));
    // The diffs (for plan) are loaded only for plan.
    else io.out.write(command === 'plan' ? (await import('../report/diff.js')).renderPlan(report) : renderText(report));
    // Only apply writes on the host, so only apply keeps them; check and plan leave no trace.
    if (command === 'apply') keepDigests(host);
    const metrics = ctx.config.metrics.textfilePath !== undefined && host.live;
    if (command === 'plan') return { code: report.exitCode, metrics };
    if (report.exitCode !== 0) io.err.write(failureLine(report, journalStream()));
    return { code: Math.max(report.exitCode, writeOutputs(report, ctx, values.junit, io.err)), metrics };
  } finally {
    lock?.release();
  }
}
