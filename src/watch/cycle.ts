/**
 * One verification cycle of the watch: the engine's check, drift tracking (a line per change of
 * state, never per cycle), remediation of only the controls that drifted, and the metrics file.
 * It knows nothing of timers or file events: the scheduler decides when a cycle runs.
 *
 * A converged node's cycles find what the cycle before found. The check notes what it learns
 * from the machine, as a run the command line keeps does (src/replay/): while every path, kernel
 * value and fact it read still holds, the next cycle gives the same report again without judging
 * anything. Any change, and the cycle checks in full: drift is seen as soon as without replay.
 */
import { cisOf } from '../k3s/benchmarks/refs.js';
import { acquireRunLock, type Lock } from '../host/lock.js';
import type { Context, Control } from '../controls/types.js';
import { run } from '../engine.js';
import { describeError } from '../errors.js';
import { writeMetricsFile } from '../outputs.js';
import { renderMetrics } from '../report/prometheus.js';
import type { Report } from '../report/model.js';
import { describeChange } from '../report/text.js';
import type { RoleChoice } from '../role.js';
import { type Priority, PRIORITY, line, transitionLines } from './journal.js';
import { DriftTracker } from './state.js';
import { type Learnt, RecordingHost, stillHolds } from '../replay/recording-host.js';

/** Structured log fields of one line. */
export type Fields = Record<string, string | number | undefined>;

export interface CycleOptions {
  ctx: Context;
  roleChoice: RoleChoice;
  controls: readonly Control[];
  remediate: boolean;
  metricsPath?: string;
  /** watch.interval, exported with the metrics so that a stale last run is judged against it. */
  intervalMs?: number;
  /** Writes one finished line (standard error, the journal). */
  log: (text: string) => void;
  /** Prefix lines with the syslog priority (standard error is the journal). */
  prefix: boolean;
  now?: () => number;
  /** The run lock a remediation takes, as apply does (waiting briefly). */
  lock?: () => Promise<Lock>;
  /** Give an unchanged check's report again (default); false checks in full at every cycle. */
  replay?: boolean;
}

/** At most this many rounds of remediate-then-verify in one cycle. */
const MAX_ROUNDS = 3;

export class WatchCycle {
  /** Cycles run so far. */
  cycles = 0;
  /** Checks given again from the last one (nothing it learnt had changed), so far. */
  replayed = 0;
  private readonly tracker = new DriftTracker();
  private readonly drift = new Map<string, number>();
  private readonly remediations = new Map<string, { ok: number; failed: number }>();
  /** Problems already logged, by subject: a problem that repeats every cycle is logged once, until it goes away. */
  private readonly reported = new Map<string, string>();
  /** The last check's report with what it learnt from the machine, while that can be checked again. */
  private last: { learnt: Learnt; report: Report } | null = null;
  private readonly now: () => number;
  private readonly lock: () => Promise<Lock>;

  constructor(private readonly options: CycleOptions) {
    this.now = options.now ?? Date.now;
    this.lock = options.lock ?? (() => acquireRunLock({ root: options.ctx.host.root, waitSeconds: 10 }));
  }

  log(priority: Priority, event: string, pairs: Fields = {}): void {
    this.options.log(line(priority, event, pairs, this.options.prefix));
  }

  /** Logs a problem of a subject once; null says the subject is fine again (the next problem is logged anew). */
  once(subject: string, problem: string | null, priority: Priority, event: string, pairs: Fields): void {
    if (problem === null) {
      this.reported.delete(subject);
      return;
    }
    if (this.reported.get(subject) === problem) return;
    this.reported.set(subject, problem);
    this.log(priority, event, pairs);
  }

  /** Controls not passing now. */
  failing(): number {
    return this.tracker.failing().length;
  }

  /** Verifies, logs the changes of state, remediates what drifted (each control once), writes the metrics. */
  async run(): Promise<Report> {
    const check = () => this.check();
    let report = await check();
    this.cycles++;
    let seen = this.tracker.observe(report, this.now());
    const fixed = new Set<string>();
    // A remediation is verified at once, so the restored state is logged and exported now; a
    // drift seen by that verification is remediated too, each control once per cycle.
    for (let round = 0; ; round++) {
      for (const text of transitionLines(seen.items, this.options.prefix)) this.options.log(text);
      const toFix: Control[] = [];
      for (const c of seen.controls) {
        if (!c.drifted) continue;
        if (this.cycles > 1) this.drift.set(c.control, (this.drift.get(c.control) ?? 0) + 1);
        const control = this.options.controls.find((x) => x.id === c.control);
        if (this.options.remediate && control && c.status === 'fail' && !fixed.has(control.id)) toFix.push(control);
      }
      if (toFix.length === 0 || round >= MAX_ROUNDS) break;
      for (const control of toFix) {
        fixed.add(control.id);
        await this.remediate(control);
      }
      report = await check();
      seen = this.tracker.observe(report, this.now());
    }
    this.writeMetrics(report);
    return report;
  }

  /**
   * The engine's check, or the last one's report while everything it learnt still holds (each
   * path's entry, each kernel value: recording-host.ts). A check that learnt something it cannot
   * check again (a program run, a file changed during it or just before) is not given again.
   */
  private async check(): Promise<Report> {
    const { ctx, roleChoice, controls } = this.options;
    if (this.last !== null) {
      let why: string | null;
      try {
        why = stillHolds(this.last.learnt, ctx.host);
      } catch (error) {
        why = describeError(error);
      }
      if (why === null) {
        this.replayed++;
        return this.last.report;
      }
      this.last = null;
    }
    if (this.options.replay === false) return run(ctx, { command: 'check', roleChoice, facts: false, controls });
    const recording = new RecordingHost(ctx.host);
    const report = await run({ ...ctx, host: recording }, { command: 'check', roleChoice, facts: false, controls });
    const learnt = recording.finish();
    if (!('why' in learnt)) this.last = { learnt, report };
    return report;
  }

  private async remediate(control: Control): Promise<void> {
    const { ctx, roleChoice } = this.options;
    this.last = null;
    const counts = this.remediations.get(control.id) ?? { ok: 0, failed: 0 };
    this.remediations.set(control.id, counts);
    const cis = control.checks ? cisOf(ctx, control.checks) : control.cis;
    let report: Report;
    try {
      // The same lock as apply: a remediation never runs beside an apply (it waits briefly, then
      // gives this cycle up and says so).
      const lock = await this.lock();
      try {
        report = await run(ctx, { command: 'apply', roleChoice, facts: false, controls: [control] });
      } finally {
        lock.release();
      }
    } catch (error) {
      counts.failed++;
      this.log(PRIORITY.err, 'remediation failed', { control: control.id, cis, reason: describeError(error) });
      return;
    }
    const result = report.controls[0];
    const changes = result?.changes.map(describeChange).join('; ') || 'none';
    // A warning that stays (an unscored item apply cannot settle) does not make the remediation a failure.
    if (report.hostErrors.length === 0 && (result?.status === 'pass' || result?.status === 'warn')) {
      counts.ok++;
      this.log(PRIORITY.notice, 'remediated', { control: control.id, cis, changes });
    } else {
      counts.failed++;
      const reasons = [
        ...report.hostErrors,
        ...(result?.findings ?? []).filter((f) => f.status !== 'pass' && f.status !== 'skip').map((f) => `${f.item}: ${f.reason}`),
      ];
      this.log(PRIORITY.err, 'remediation failed', {
        control: control.id,
        cis,
        changes,
        reason: reasons.join('; ') || `status ${result?.status}`,
      });
    }
  }

  private writeMetrics(report: Report): void {
    const path = this.options.metricsPath;
    if (path === undefined) return;
    let problem: string | null = null;
    try {
      writeMetricsFile(
        this.options.ctx.host,
        path,
        renderMetrics({
          report,
          now: this.now(),
          watch: {
            cycles: this.cycles,
            drift: this.drift,
            remediations: this.remediations,
            ...(this.options.intervalMs !== undefined ? { intervalSeconds: this.options.intervalMs / 1000 } : {}),
          },
        }),
      );
    } catch (error) {
      problem = describeError(error);
    }
    this.once('metrics', problem, PRIORITY.err, 'cannot write metrics', { path, reason: problem ?? undefined });
  }
}
