/**
 * The watch daemon: verifies every control at an interval and soon after a change under the
 * paths the controls name, logs each change of state once, optionally re-applies the control
 * that drifted, and writes the metrics file. A cycle is the engine's check: it reads /proc/sys
 * and the files directly and starts no process.
 */
import { acquireRunLock } from '../host/lock.js';
import * as fs from 'node:fs';
import { CONTROLS } from '../controls/index.js';
import type { Context, Control } from '../controls/types.js';
import { run } from '../engine.js';
import { describeError } from '../errors.js';
import { writeMetricsFile } from '../outputs.js';
import { describeChange } from '../report/text.js';
import { renderMetrics } from '../report/prometheus.js';
import type { Report } from '../report/model.js';
import type { RoleChoice } from '../role.js';
import { DriftTracker } from './state.js';
import { PRIORITY, line, transitionLine, type Priority } from './journal.js';
import { planWatches, relevant, watchedPaths } from './targets.js';

export interface WatchOptions {
  ctx: Context;
  roleChoice: RoleChoice;
  controls?: readonly Control[];
  intervalMs: number;
  /** How long after a file event the cycle runs; events meanwhile join it. */
  debounceMs?: number;
  remediate: boolean;
  metricsPath?: string;
  /** Run this many cycles back to back, then stop (tests and benchmarks). */
  cycles?: number;
  signal: AbortSignal;
  log: (text: string) => void;
  /** Prefix lines with the syslog priority (standard error is the journal). */
  prefix: boolean;
  now?: () => number;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export interface WatchStats {
  cycles: number;
  /** CPU time (user + system) per cycle after warm-up, in microseconds. */
  cpuMicrosPerCycle: number;
  /** After warm-up and at the end; after a garbage collection when node runs with --expose-gc. */
  warm: MemorySample;
  end: MemorySample;
}

interface DirWatch {
  watcher: fs.FSWatcher;
  ino: number;
  names: Set<string> | null;
}

function memory(): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

export async function watch(options: WatchOptions): Promise<WatchStats> {
  const { ctx, roleChoice, signal } = options;
  const controls = options.controls ?? CONTROLS;
  const now = options.now ?? Date.now;
  const debounceMs = options.debounceMs ?? 300;
  const tracker = new DriftTracker();
  const drift = new Map<string, number>();
  const remediations = new Map<string, { ok: number; failed: number }>();
  const dirs = new Map<string, DirWatch>();
  const paths = watchedPaths(controls);
  const reported = new Set<string>();
  let cycles = 0;

  const log = (priority: Priority, event: string, pairs: Record<string, string | number | undefined> = {}) => options.log(line(priority, event, pairs, options.prefix));
  /** A problem that repeats every cycle is logged once, until it goes away. */
  const once = (key: string, problem: string | null, priority: Priority, event: string, pairs: Record<string, string | number | undefined>) => {
    const k = `${key}\u0000${problem}`;
    for (const r of reported) if (r.startsWith(`${key}\u0000`) && r !== k) reported.delete(r);
    if (problem === null || reported.has(k)) return;
    reported.add(k);
    log(priority, event, pairs);
  };

  let timer: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;

  const onEvent = (names: Set<string> | null) => (_event: string, filename: string | Buffer | null) => {
    if (signal.aborted || !relevant(names, filename === null ? null : String(filename))) return;
    if (running) again = true;
    else if (!debounce) debounce = setTimeout(() => void tick('change'), debounceMs);
  };

  const isDir = (p: string) => {
    try {
      return ctx.host.stat(p)?.isDirectory() ?? false;
    } catch {
      return false;
    }
  };

  /** Watches what exists now; a directory that appeared, vanished or was replaced is re-armed. */
  const rearm = () => {
    const plan = planWatches(paths, isDir);
    for (const [dir, w] of dirs) {
      const ino = ctx.host.stat(dir)?.ino;
      if (!plan.has(dir) || ino !== w.ino) {
        w.watcher.close();
        dirs.delete(dir);
      }
    }
    for (const [dir, names] of plan) {
      const existing = dirs.get(dir);
      if (existing) {
        existing.names = names;
        continue;
      }
      const real = ctx.host.realPath(dir);
      try {
        const ino = fs.statSync(real).ino;
        const entry: DirWatch = { watcher: undefined as unknown as fs.FSWatcher, ino, names };
        entry.watcher = fs.watch(real, { persistent: false }, (event, filename) => onEvent(entry.names)(event, filename));
        entry.watcher.on('error', () => {
          entry.watcher.close();
          dirs.delete(dir);
        });
        dirs.set(dir, entry);
        once(`watch ${dir}`, null, PRIORITY.warning, '', {});
      } catch (error) {
        once(`watch ${dir}`, describeError(error), PRIORITY.warning, 'cannot watch', { path: dir, reason: describeError(error), fallback: `every ${options.intervalMs / 1000}s` });
      }
    }
  };

  const writeMetrics = (report: Report) => {
    if (options.metricsPath === undefined) return;
    let problem: string | null = null;
    try {
      writeMetricsFile(ctx.host, options.metricsPath, renderMetrics({ report, now: now(), watch: { cycles, drift, remediations, intervalSeconds: options.intervalMs / 1000 } }));
    } catch (error) {
      problem = describeError(error);
    }
    once('metrics', problem, PRIORITY.err, 'cannot write metrics', { path: options.metricsPath, reason: problem ?? undefined });
  };

  const remediate = async (control: Control) => {
    const counts = remediations.get(control.id) ?? { ok: 0, failed: 0 };
    remediations.set(control.id, counts);
    let report: Report;
    try {
      // The same lock as apply: a remediation never runs beside an apply (it waits briefly, then
      // gives this cycle up and says so).
      const lock = await acquireRunLock({ root: ctx.host.root, waitSeconds: 10 });
      try {
        report = await run(ctx, { command: 'apply', roleChoice, facts: false, controls: [control] });
      } finally {
        lock.release();
      }
    } catch (error) {
      counts.failed++;
      log(PRIORITY.err, 'remediation failed', { control: control.id, cis: control.cis, reason: describeError(error) });
      return;
    }
    const result = report.controls[0];
    const changes = result?.changes.map(describeChange).join('; ') || 'none';
    // A warning that stays (an unscored item apply cannot settle) does not make the remediation a failure.
    if (report.hostErrors.length === 0 && (result?.status === 'pass' || result?.status === 'warn')) {
      counts.ok++;
      log(PRIORITY.notice, 'remediated', { control: control.id, cis: control.cis, changes });
    } else {
      counts.failed++;
      const reasons = [...report.hostErrors, ...(result?.findings ?? []).filter((f) => f.status !== 'pass' && f.status !== 'skip').map((f) => `${f.item}: ${f.reason}`)];
      log(PRIORITY.err, 'remediation failed', { control: control.id, cis: control.cis, changes, reason: reasons.join('; ') || `status ${result?.status}` });
    }
  };

  const cycle = async (): Promise<void> => {
    let report = await run(ctx, { command: 'check', roleChoice, facts: false, controls });
    cycles++;
    let seen = tracker.observe(report, now());
    const fixed = new Set<string>();
    // A remediation is verified at once, so the restored state is logged and exported now; a
    // drift seen by that verification is remediated too, each control once per cycle.
    for (let round = 0; ; round++) {
      for (const t of seen.items) options.log(transitionLine(t, options.prefix));
      const toFix: Control[] = [];
      for (const c of seen.controls) {
        if (!c.drifted) continue;
        if (cycles > 1) drift.set(c.control, (drift.get(c.control) ?? 0) + 1);
        const control = controls.find((x) => x.id === c.control);
        if (options.remediate && control && c.status === 'fail' && !fixed.has(control.id)) toFix.push(control);
      }
      if (toFix.length === 0 || round >= 3) break;
      for (const control of toFix) {
        fixed.add(control.id);
        await remediate(control);
      }
      report = await run(ctx, { command: 'check', roleChoice, facts: false, controls });
      seen = tracker.observe(report, now());
    }
    writeMetrics(report);
    if (cycles === 1) {
      const failing = tracker.failing().length;
      log(PRIORITY.info, 'first verification', { verdict: report.compliant ? 'compliant' : 'not compliant', failing, watching: dirs.size, interval: `${options.intervalMs / 1000}s`, remediate: options.remediate ? 'on' : 'off' });
    }
  };

  const tick = async (reason: string): Promise<void> => {
    void reason;
    if (signal.aborted) return;
    clearTimeout(debounce);
    debounce = undefined;
    clearTimeout(timer);
    running = true;
    try {
      await cycle();
    } catch (error) {
      once('cycle', describeError(error), PRIORITY.err, 'cycle failed', { reason: describeError(error) });
    } finally {
      running = false;
    }
    if (signal.aborted) return;
    rearm();
    if (again) {
      again = false;
      debounce = setTimeout(() => void tick('change'), debounceMs);
    }
    timer = setTimeout(() => void tick('interval'), options.intervalMs);
  };

  rearm();
  log(PRIORITY.info, 'watch started', { controls: controls.filter((c) => c.roles.includes(ctx.role)).length, role: ctx.role, interval: `${options.intervalMs / 1000}s`, watching: dirs.size, remediate: options.remediate ? 'on' : 'off' });

  const stats: WatchStats = { cycles: 0, cpuMicrosPerCycle: 0, warm: memory(), end: memory() };
  if (options.cycles !== undefined) {
    const warmAt = Math.min(1000, Math.floor(options.cycles / 5));
    let cpu = process.cpuUsage();
    for (let i = 0; i < options.cycles && !signal.aborted; i++) {
      if (i === warmAt) {
        stats.warm = memory();
        cpu = process.cpuUsage();
      }
      await cycle();
    }
    const used = process.cpuUsage(cpu);
    stats.cpuMicrosPerCycle = (used.user + used.system) / Math.max(1, cycles - warmAt);
    stats.end = memory();
  } else {
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      void tick('start');
    });
    // A cycle in flight finishes (it is short); nothing new starts.
    while (running) await new Promise((r) => setTimeout(r, 5));
  }
  clearTimeout(timer);
  clearTimeout(debounce);
  for (const w of dirs.values()) w.watcher.close();
  dirs.clear();
  stats.cycles = cycles;
  log(PRIORITY.info, 'watch stopped', { cycles, reason: signal.aborted ? String(signal.reason ?? 'signal') : 'done' });
  return stats;
}
