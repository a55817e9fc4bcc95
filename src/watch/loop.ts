/**
 * The watch daemon: a scheduler (when: at an interval and soon after a change under the paths
 * the controls name) driving a cycle (what: verify, log each change of state once, optionally
 * re-apply the control that drifted, write the metrics file). A cycle is the engine's check: it
 * reads /proc/sys and the files directly and starts no process.
 */
import { CONTROLS } from '../controls/index.js';
import type { Context, Control } from '../controls/types.js';
import { describeError } from '../errors.js';
import type { RoleChoice } from '../role.js';
import { WatchCycle } from './cycle.js';
import { PRIORITY } from './journal.js';
import { Scheduler } from './scheduler.js';
import { watchedPaths } from './targets.js';

export interface WatchOptions {
  ctx: Context;
  roleChoice: RoleChoice;
  controls?: readonly Control[];
  intervalMs: number;
  /** How long after a file event the cycle runs; events meanwhile join it. */
  debounceMs?: number;
  remediate: boolean;
  metricsPath?: string;
  signal: AbortSignal;
  log: (text: string) => void;
  /** Prefix lines with the syslog priority (standard error is the journal). */
  prefix: boolean;
  now?: () => number;
}

/** Runs until the signal aborts; resolves once the cycle in flight has finished. Returns the number of cycles run. */
export async function watch(options: WatchOptions): Promise<number> {
  const { ctx, signal } = options;
  const controls = options.controls ?? CONTROLS;
  const interval = `${options.intervalMs / 1000}s`;
  const remediate = options.remediate ? 'on' : 'off';
  const cycle = new WatchCycle({ ...options, controls });
  const scheduler = new Scheduler({
    host: ctx.host,
    paths: watchedPaths(controls),
    intervalMs: options.intervalMs,
    debounceMs: options.debounceMs ?? 300,
    signal,
    watchProblem: (dir, problem) =>
      cycle.once(`watch ${dir}`, problem, PRIORITY.warning, 'cannot watch', { path: dir, reason: problem ?? undefined, fallback: `every ${interval}` }),
    cycle: async () => {
      try {
        const report = await cycle.run();
        cycle.once('cycle', null, PRIORITY.err, '', {});
        if (cycle.cycles === 1) {
          const verdict = report.compliant ? 'compliant' : 'not compliant';
          cycle.log(PRIORITY.info, 'first verification', { verdict, failing: cycle.failing(), watching: scheduler.watching, interval, remediate });
        }
      } catch (error) {
        cycle.once('cycle', describeError(error), PRIORITY.err, 'cycle failed', { reason: describeError(error) });
      }
    },
  });
  scheduler.arm();
  cycle.log(PRIORITY.info, 'watch started', {
    controls: controls.filter((c) => c.roles.includes(ctx.role)).length,
    role: ctx.role,
    interval,
    watching: scheduler.watching,
    remediate,
  });
  await scheduler.run();
  cycle.log(PRIORITY.info, 'watch stopped', { cycles: cycle.cycles, reason: String(signal.reason ?? 'signal') });
  return cycle.cycles;
}
