/**
 * The report as a node_exporter textfile-collector file (Prometheus text exposition format
 * 0.0.4). Pure: writing it atomically is the caller's job.
 *
 * Series:
 *   k3s_hostprep_control_status{id,cis}         1 when the control holds (pass, not applicable, or an
 *                                               unscored warning), 0 when it fails or cannot be read
 *   k3s_hostprep_control_state{id,cis,state}    1 for the control's current state, 0 for the other four
 *                                               (pass, fail, warn, skip, error), for alerts on one state
 *   k3s_hostprep_compliant                      1 when the run was compliant, else 0
 *   k3s_hostprep_exit_code                      the command's exit code (0, 1 or 3)
 *   k3s_hostprep_last_run_timestamp_seconds     when the run finished (Unix time)
 *   k3s_hostprep_info{version,command,role}     always 1
 *   k3s_hostprep_check{benchmark,cis,state}     1 per check of the selected kube-bench benchmark, its state
 *                                               the agent's verdict (pass, fail, warn, skip, error)
 * and, from watch only (they count since the watch started):
 *   k3s_hostprep_drift_total{id,cis}            transitions of the control from holding to not
 *   k3s_hostprep_remediations_total{id,cis,result}  re-applies after drift, result ok or failed
 *   k3s_hostprep_watch_cycles_total             verification cycles run
 *   k3s_hostprep_watch_interval_seconds         watch.interval: a cycle runs at least this often, so a
 *                                               last-run timestamp older than a few intervals means the
 *                                               watch is dead or stuck
 */
import type { Status } from '../controls/types.js';
import type { Report } from './model.js';

export interface WatchCounters {
  cycles: number;
  /** By control id. */
  drift: ReadonlyMap<string, number>;
  remediations: ReadonlyMap<string, { ok: number; failed: number }>;
  /** Seconds between cycles when no file event comes first (watch.interval): staleness is judged against it. */
  intervalSeconds?: number;
}

export interface MetricsInput {
  report: Report;
  /** Unix time in milliseconds at the end of the run. */
  now: number;
  watch?: WatchCounters;
}

const STATES: readonly Status[] = ['pass', 'fail', 'warn', 'skip', 'error'];

/** Label values escape backslash, double quote and newline; nothing else needs it. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(',')}}`;
}

/** Whether a control's status counts as holding. */
export function holds(status: Status): boolean {
  return status === 'pass' || status === 'skip' || status === 'warn';
}

export function renderMetrics(input: MetricsInput): string {
  const { report } = input;
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  const id = (c: Report['controls'][number]) => ({ id: c.id, cis: c.cis ?? '' });

  family(
    'k3s_hostprep_control_status',
    'gauge',
    'Whether the control holds: 1 pass, not applicable or unscored warning; 0 fail or unreadable.',
    report.controls.map((c) => `k3s_hostprep_control_status${labels(id(c))} ${holds(c.status) ? 1 : 0}`),
  );
  family(
    'k3s_hostprep_control_state',
    'gauge',
    "The control's current state: 1 for the state it is in, 0 for the others.",
    report.controls.flatMap((c) => STATES.map((state) => `k3s_hostprep_control_state${labels({ ...id(c), state })} ${c.status === state ? 1 : 0}`)),
  );
  family('k3s_hostprep_compliant', 'gauge', 'Whether the last run found the host compliant (1) or not (0).', [
    `k3s_hostprep_compliant ${report.compliant ? 1 : 0}`,
  ]);
  family('k3s_hostprep_exit_code', 'gauge', 'Exit code of the last run: 0 compliant, 1 not compliant, 3 host error.', [
    `k3s_hostprep_exit_code ${report.exitCode}`,
  ]);
  family('k3s_hostprep_last_run_timestamp_seconds', 'gauge', 'Unix time the last run finished.', [
    `k3s_hostprep_last_run_timestamp_seconds ${(input.now / 1000).toFixed(3)}`,
  ]);
  family('k3s_hostprep_info', 'gauge', 'Version of k3s-hostprep, the command and the node role of the last run.', [
    `k3s_hostprep_info${labels({ version: report.version, command: input.watch ? 'watch' : report.command, role: report.role })} 1`,
  ]);
  const checks = report.controls.filter((c) => c.id === 'kube-bench').flatMap((c) => c.findings.filter((f) => f.cis !== undefined && /^\d/.test(f.cis)));
  if (checks.length > 0) {
    family(
      'k3s_hostprep_check',
      'gauge',
      'Each check of the selected kube-bench benchmark, labelled with its id and the verdict kube-bench would give (1 per check).',
      checks.map((f) => `k3s_hostprep_check${labels({ benchmark: report.benchmark?.name ?? '', cis: f.cis!, state: f.status })} 1`),
    );
  }

  if (input.watch) {
    const w = input.watch;
    family(
      'k3s_hostprep_drift_total',
      'counter',
      'Times a control went from holding to failing, since the watch started.',
      report.controls.map((c) => `k3s_hostprep_drift_total${labels(id(c))} ${w.drift.get(c.id) ?? 0}`),
    );
    family(
      'k3s_hostprep_remediations_total',
      'counter',
      'Re-applies of a drifted control, by result, since the watch started.',
      report.controls.flatMap((c) =>
        (['ok', 'failed'] as const).map(
          (result) => `k3s_hostprep_remediations_total${labels({ ...id(c), result })} ${w.remediations.get(c.id)?.[result] ?? 0}`,
        ),
      ),
    );
    family('k3s_hostprep_watch_cycles_total', 'counter', 'Verification cycles run since the watch started.', [`k3s_hostprep_watch_cycles_total ${w.cycles}`]);
    if (w.intervalSeconds !== undefined) {
      family('k3s_hostprep_watch_interval_seconds', 'gauge', 'Seconds between verification cycles at most (watch.interval).', [
        `k3s_hostprep_watch_interval_seconds ${w.intervalSeconds}`,
      ]);
    }
  }
  return out.join('\n') + '\n';
}
