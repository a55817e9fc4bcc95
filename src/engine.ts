/**
 * plan, apply and verify over the controls that ship. Results, not exceptions: every control
 * runs, errors are gathered and the report says all of them at the end.
 */
import { CONTROLS } from './controls/index.js';
import { Snapshot } from './controls/snapshot.js';
import { runReads } from './host/run-reads.js';
import type { ApplyOutcome, Change, Context, Control, ControlPlan, Finding } from './controls/types.js';
import { describeError } from './errors.js';
import { k3sVersionOf } from './k3s/node.js';
import { benchmarkOf } from './k3s/benchmarks/select.js';
import { cisOf } from './k3s/benchmarks/refs.js';
import { PENDING_REASON, controlStatus, type Command, type ControlResult, type Report } from './report/model.js';
import type { RoleChoice } from './role.js';
import { VERSION } from './version.js';

export interface RunOptions {
  command: Command;
  roleChoice: RoleChoice;
  /** Load systeminformation and put the host's facts in the report. */
  facts: boolean;
  controls?: readonly Control[];
  /**
   * apply: called once before the first change is made (the run lock). A host with nothing to
   * change is verified without it: every write happens under the lock, after planning again.
   */
  beforeChanges?: (() => Promise<void>) | undefined;
}

/** What a change does to which path or key, so that two controls planning the same change count it once. */
function changeKey(change: Change): string {
  switch (change.kind) {
    case 'sysctl':
      return `sysctl ${change.key}`;
    case 'file':
      return `file ${change.path}`;
    case 'chmod':
      return `chmod ${change.path} ${change.to}`;
    case 'chown':
      return `chown ${change.path} ${change.to}`;
    default:
      return `${change.kind} ${change.path}`;
  }
}

function applies(control: Control, ctx: Context): boolean {
  return control.roles.includes(ctx.role);
}

function notApplicable(control: Control, ctx: Context): Finding[] {
  return [
    {
      item: control.id,
      status: 'skip',
      expected: `role ${control.roles.join(' or ')}`,
      actual: `role ${ctx.role}`,
      reason: `applies to ${control.roles.join(' and ')} nodes only`,
    },
  ];
}

function safePlan(control: Control, ctx: Context): ControlPlan {
  try {
    return control.plan(ctx);
  } catch (error) {
    return { changes: [], blocked: [{ item: control.id, status: 'error', expected: 'a plan', actual: 'unreadable host', reason: describeError(error) }] };
  }
}

function safeVerify(control: Control, ctx: Context): Finding[] {
  try {
    return control.verify(ctx);
  } catch (error) {
    return [{ item: control.id, status: 'error', expected: 'a verifiable state', actual: 'unreadable host', reason: describeError(error) }];
  }
}

/** What apply could not do explains a failure better than what verify saw: it replaces the finding for the same item. */
function withBlocked(findings: Finding[], blocked: readonly Finding[]): Finding[] {
  const out = findings.map((f) => blocked.find((b) => b.item === f.item && f.status !== 'pass') ?? f);
  for (const b of blocked) if (!out.includes(b) && !findings.some((f) => f.item === b.item)) out.push(b);
  return out;
}

function result(ctx: Context, control: Control, findings: Finding[], changes: ControlResult['changes']): ControlResult {
  return {
    id: control.id,
    cis: (control.checks ? cisOf(ctx, control.checks) : control.cis) ?? null,
    title: control.title,
    scored: control.scored,
    status: controlStatus(findings, control.scored),
    remediation: control.remediation,
    findings: control.scored ? findings : findings.map((f) => (f.status === 'fail' ? { ...f, status: 'warn' } : f)),
    changes,
  };
}

export async function run(given: Context, options: RunOptions): Promise<Report> {
  // What the run reads is kept for the run (Snapshot, and the host's answers through runReads),
  // and forgotten whenever it changes the host.
  const fresh = (): Context => ({ ...given, host: runReads(given.host), snapshot: new Snapshot() });
  let ctx: Context = fresh();
  const controls = options.controls ?? CONTROLS;
  const results: ControlResult[] = [];
  const hostErrors: string[] = [];
  const backups: string[] = [];
  const factsPromise = options.facts ? ctx.host.facts().catch(() => null) : Promise.resolve(null);

  if (options.command === 'plan') {
    // apply runs the controls in order, so a change an earlier control makes (the parent
    // directories several files share) is not one a later control makes again: each change is
    // planned once, by the first control that needs it, and the count is what apply would make.
    const planned = new Set<string>();
    for (const control of controls) {
      if (!applies(control, ctx)) {
        results.push(result(ctx, control, notApplicable(control, ctx), []));
        continue;
      }
      const plan = safePlan(control, ctx);
      const changes = plan.changes.filter((c) => !planned.has(changeKey(c)));
      for (const c of changes) planned.add(changeKey(c));
      const pending: Finding[] =
        changes.length > 0
          ? [{ item: control.id, status: 'fail', expected: 'no change needed', actual: `${changes.length} change(s) pending`, reason: PENDING_REASON }]
          : [];
      const findings = [...plan.blocked, ...pending];
      results.push(
        result(
          ctx,
          control,
          findings.length > 0 ? findings : [{ item: control.id, status: 'pass', expected: 'no change needed', actual: 'no change needed', reason: '' }],
          changes,
        ),
      );
    }
  } else {
    const done = new Map<string, ApplyOutcome['done']>();
    const blocked = new Map<string, Finding[]>();
    if (options.command === 'apply') {
      // Planned first without the lock: a converged host (the boot-time gate's usual case) is
      // left as it is and verified from what was read for the plan, and waits for no other run.
      // With anything to change, the lock is taken and every control is planned again under it
      // from a fresh read, since another run may have changed the host meanwhile.
      let plans: Map<string, ControlPlan> | null = new Map();
      for (const control of controls) if (applies(control, ctx)) plans.set(control.id, safePlan(control, ctx));
      // Each control is then planned after the ones before it made their changes (the parent
      // directories several files share are made once).
      if ([...plans.values()].some((p) => p.changes.length > 0)) {
        await options.beforeChanges?.();
        ctx = fresh();
        plans = null;
      }
      for (const control of controls) {
        if (!applies(control, ctx)) continue;
        const plan = plans?.get(control.id) ?? safePlan(control, ctx);
        blocked.set(control.id, plan.blocked);
        try {
          const outcome = await control.apply(ctx, plan);
          if (outcome.done.length > 0 || outcome.hostErrors.length > 0) ctx = fresh();
          done.set(control.id, outcome.done);
          hostErrors.push(...outcome.hostErrors.map((e) => `${control.id}: ${e}`));
          backups.push(...outcome.backups);
        } catch (error) {
          ctx = fresh();
          hostErrors.push(`${control.id}: ${describeError(error)}`);
        }
      }
    }
    for (const control of controls) {
      if (!applies(control, ctx)) {
        results.push(result(ctx, control, notApplicable(control, ctx), []));
        continue;
      }
      const findings = withBlocked(safeVerify(control, ctx), blocked.get(control.id) ?? []);
      results.push(result(ctx, control, findings, done.get(control.id) ?? []));
    }
  }

  const summary: Report['summary'] = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, changes: 0 };
  for (const r of results) {
    for (const f of r.findings) summary[f.status]++;
    summary.changes += r.changes.length;
  }
  const scoredBad = results.some((r) => r.scored && (r.status === 'fail' || r.status === 'error'));
  const unreadable = results.some((r) => r.status === 'error');
  // check: a failure it could see is certain and wins (1) over items it could not read (3), so a
  // partial check (e.g. as a non-root user) still reports every item it could read; apply and
  // plan report any host problem first (3).
  const failSeen = results.some((r) => r.scored && r.findings.some((f) => f.status === 'fail'));
  const exitCode: Report['exitCode'] =
    options.command === 'check' && hostErrors.length === 0 ? (failSeen ? 1 : unreadable ? 3 : 0) : hostErrors.length > 0 || unreadable ? 3 : scoredBad ? 1 : 0;
  return {
    tool: 'k3s-hostprep',
    version: VERSION,
    command: options.command,
    role: ctx.role,
    roleSource: options.roleChoice.source,
    root: ctx.host.root,
    config: ctx.config.source,
    k3s: { version: k3sVersionOf(ctx).version.text, source: k3sVersionOf(ctx).source },
    benchmark: { name: benchmarkOf(ctx).name, source: benchmarkOf(ctx).source },
    host: await factsPromise,
    controls: results,
    hostErrors,
    backups,
    summary,
    compliant: !scoredBad && !unreadable && hostErrors.length === 0,
    exitCode,
  };
}
