/** check, apply and plan: one run of the engine over this host, one report, the output files. */
import { keepDigests, recallDigests } from '../controls/digest-memo.js';
import { run } from '../engine.js';
import { HostError } from '../errors.js';
import { DEFAULT_WAIT_SECONDS, acquireRunLock, type Lock } from '../host/lock.js';
import { failureLine } from '../report/failure-line.js';
import { renderJson } from '../report/json.js';
import { renderText } from '../report/text.js';
import { journalStream } from '../watch/journal.js';
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

export async function runReport(command: 'apply' | 'check' | 'plan', values: ReportValues, io: Io): Promise<number> {
  const host = openHost(values.root);
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
    if (command === 'plan') return report.exitCode;
    if (report.exitCode !== 0) io.err.write(failureLine(report, journalStream()));
    return Math.max(report.exitCode, writeOutputs(report, ctx, values.junit, io.err));
  } finally {
    lock?.release();
  }
}
