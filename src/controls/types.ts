import type { Host } from '../host/host.js';
import type { Config, Role } from '../config/schema.js';
import type { K3sVersionChoice } from '../k3s/version.js';
import type { BenchmarkChoice } from '../k3s/benchmarks/index.js';
import type { Observed } from './benchmark.js';
import type { CheckRef } from '../k3s/benchmarks/refs.js';
import type { Snapshot } from './snapshot.js';

export type { Role };

/** pass and fail as in kube-bench; warn for unscored failures; skip when not applicable; error when unreadable. */
export type Status = 'pass' | 'fail' | 'warn' | 'skip' | 'error';

/** One judged item of a control: a key, a file or a directory. */
export interface Finding {
  /** What was judged: a sysctl key, a path. */
  item: string;
  status: Status;
  expected: string;
  actual: string;
  /** Why it is not a pass; empty on pass. */
  reason: string;
  /** Overrides the control's CIS number for this item. */
  cis?: string;
  /** What fixes this item, when the control's remediation would not (the operator's file, a symlink). */
  fix?: string;
}

/** One change that apply would make, rendered by plan. */
export type Change =
  | { kind: 'file'; path: string; before: string | null; after: string; mode: number; backup: boolean }
  | { kind: 'mkdir'; path: string; mode: number }
  | { kind: 'chmod'; path: string; from: number; to: number }
  | { kind: 'chown'; path: string; from: string; to: string }
  | { kind: 'sysctl'; key: string; from: string; to: string }
  /** A leftover of a run that was killed: only temporary files k3s-hostprep itself names. */
  | { kind: 'remove'; path: string; why: string };

/** The path or key a change is about. */
export function changeTarget(change: Change): string {
  return change.kind === 'sysctl' ? change.key : change.path;
}

export interface ControlPlan {
  changes: Change[];
  /** Changes that cannot be made without the operator (a foreign file, a symlink), reported as failures. */
  blocked: Finding[];
}

export interface Context {
  host: Host;
  config: Config;
  role: Role;
  /** Replace files that k3s-hostprep did not write, keeping a backup. */
  force: boolean;
  /** The K3s version prepared for, and where it came from: chosen once at the edge (chooseK3sVersion). */
  k3s: K3sVersionChoice;
  /** The kube-bench benchmark judged with, and why; kube-bench's choice for the version when absent. */
  benchmark?: BenchmarkChoice;
  /** What K3s logged and the cluster answered, gathered before verify; absent: judged from the files alone. */
  observed?: Observed;
  /** What this run has read and worked out so far; the engine sets it. */
  snapshot?: Snapshot;
}

/** What apply did: the changes made and anything that went wrong on the host. */
export interface ApplyOutcome {
  done: Change[];
  /** Messages for failures of the host (exit 3). */
  hostErrors: string[];
  backups: string[];
}

export interface Control {
  id: string;
  /** The check id in the selected benchmark, where one control stands for one check. */
  cis?: string;
  /** The checks of the selected benchmark the control serves, resolved to that benchmark's ids (its cis). */
  checks?: readonly CheckRef[];
  title: string;
  /** Scored controls fail the run; unscored ones warn. */
  scored: boolean;
  roles: readonly Role[];
  remediation: string;
  /** Paths whose change can change the verdict: watch verifies again soon after one changes. */
  watch?: readonly string[];
  plan(ctx: Context): ControlPlan;
  apply(ctx: Context, plan: ControlPlan): Promise<ApplyOutcome>;
  verify(ctx: Context): Finding[];
}

export function pass(item: string, expected: string, actual: string): Finding {
  return { item, status: 'pass', expected, actual, reason: '' };
}

export function fail(item: string, expected: string, actual: string, reason: string): Finding {
  return { item, status: 'fail', expected, actual, reason };
}
