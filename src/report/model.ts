import type { HostFacts } from '../host/host.js';
import type { Change, Finding, Role, Status } from '../controls/types.js';

export type Command = 'apply' | 'check' | 'plan';

export interface ControlResult {
  id: string;
  cis: string | null;
  title: string;
  scored: boolean;
  status: Status;
  remediation: string;
  findings: Finding[];
  /** plan: the changes apply would make; apply: the changes it made. */
  changes: Change[];
}

/** The one object every rendering (text, JSON) is made from. */
export interface Report {
  tool: 'k3s-hostprep';
  version: string;
  command: Command;
  role: Role;
  roleSource: string;
  root: string;
  config: string;
  /** The K3s version prepared for, and where it came from. */
  k3s: { version: string; source: string };
  /** The kube-bench benchmark every check id comes from, and why it was chosen. */
  benchmark: { name: string; source: string };
  host: HostFacts | null;
  controls: ControlResult[];
  /** Failures of the host: a change that could not be made, sysctl that failed. */
  hostErrors: string[];
  backups: string[];
  summary: Record<Status, number> & { changes: number };
  compliant: boolean;
  exitCode: 0 | 1 | 3;
}

const ORDER: Status[] = ['pass', 'skip', 'warn', 'fail', 'error'];

/** The worst status of a set of findings; an unscored control only warns. */
export function controlStatus(findings: readonly Finding[], scored: boolean): Status {
  let worst: Status = findings.length === 0 ? 'pass' : 'skip';
  for (const f of findings) {
    if (f.status === 'skip') continue;
    if (worst === 'skip' || ORDER.indexOf(f.status) > ORDER.indexOf(worst)) worst = f.status;
  }
  if (!scored && worst === 'fail') return 'warn';
  return worst;
}

/** The reason of plan's finding for a control with changes pending (as opposed to one apply cannot settle). */
export const PENDING_REASON = 'apply would change this';
