/** One watch cycle alone: fake controls on a temporary root, a fake lock, no root, no timers. */
import test from 'ava';
import * as fs from 'node:fs';
import type { Control, Finding } from '../../src/controls/types.js';
import { fail, pass } from '../../src/controls/types.js';
import type { Lock } from '../../src/host/lock.js';
import { WatchCycle } from '../../src/watch/cycle.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

/** A control whose state is a variable: "good" passes, anything else fails; apply sets it good unless stuck. */
function fakeControl(id: string) {
  const state = { value: 'good', stuck: false, applied: 0 };
  const control: Control = {
    id,
    cis: '9.9.9',
    title: id,
    scored: true,
    roles: ['server', 'agent'],
    remediation: 'set it good',
    plan: () => ({ changes: state.value === 'good' ? [] : [{ kind: 'sysctl', key: id, from: state.value, to: 'good' }], blocked: [] }),
    apply: async (_ctx, plan) => {
      state.applied++;
      if (!state.stuck) state.value = 'good';
      return { done: state.stuck ? [] : plan.changes, hostErrors: [], backups: [] };
    },
    verify: (): Finding[] => [state.value === 'good' ? pass(id, 'good', state.value) : fail(id, 'good', state.value, `${id} is ${state.value}`)],
  };
  return { control, state };
}

const METRICS = '/var/lib/node_exporter/textfile_collector/k3s_hostprep.prom';

function setup(options: { remediate?: boolean; metrics?: string; lockFails?: boolean } = {}) {
  const host = new TestHost(COMPLIANT);
  const a = fakeControl('alpha');
  const b = fakeControl('beta');
  const lines: string[] = [];
  let locks = 0;
  const lock = async (): Promise<Lock> => {
    if (options.lockFails) throw new Error('another run holds the lock on /run/k3s-hostprep/apply.lock (pid 42)');
    locks++;
    return {
      release: () => {
        locks--;
      },
    } as Lock;
  };
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const cycle = new WatchCycle({
    ctx: context(host),
    roleChoice: { role: 'server', source: 'test' },
    controls: [a.control, b.control],
    remediate: options.remediate ?? false,
    ...(options.metrics !== undefined ? { metricsPath: options.metrics, intervalMs: 5000 } : {}),
    log: (text) => lines.push(text.trimEnd()),
    prefix: false,
    now: () => (clock += 1000),
    lock,
  });
  return { host, a, b, lines, cycle, locks: () => locks };
}

test('a compliant host logs nothing; a drift is logged once however many cycles see it, then restored', async (t) => {
  const s = setup();
  await s.cycle.run();
  t.deepEqual(s.lines, []);
  s.a.state.value = 'bad';
  for (let i = 0; i < 5; i++) await s.cycle.run();
  t.is(s.lines.length, 1, s.lines.join('\n'));
  t.regex(
    s.lines[0]!,
    /^drift: control=alpha cis=9\.9\.9 item=alpha status=fail expected=good actual=bad since=\S+ was=pass was_actual=good reason="alpha is bad"$/,
  );
  s.a.state.value = 'worse';
  await s.cycle.run();
  t.regex(s.lines[1]!, /^drift changed: control=alpha .*actual=worse .*was=fail was_actual=bad/);
  s.a.state.value = 'good';
  await s.cycle.run();
  t.regex(s.lines[2]!, /^restored: control=alpha .*status=pass .*was=fail drifted_for=\d+s$/);
  t.is(s.cycle.cycles, 8);
  t.is(s.a.state.applied, 0, 'nothing is applied without remediate');
});

test('remediate re-applies only the control that drifted, under the run lock, and logs the restored state in the same cycle', async (t) => {
  const s = setup({ remediate: true });
  await s.cycle.run();
  s.b.state.value = 'bad';
  const report = await s.cycle.run();
  t.is(s.b.state.applied, 1);
  t.is(s.a.state.applied, 0, 'the control that did not drift is left alone');
  t.is(s.locks(), 0, 'the lock was released');
  t.true(report.compliant, 'the report is the verification after the remediation');
  t.deepEqual(
    s.lines.map((l) => l.split(':')[0]),
    ['drift', 'remediated', 'restored'],
  );
  t.regex(s.lines[1]!, /^remediated: control=beta cis=9\.9\.9 changes="sysctl beta: bad -> good"$/);
});

test('a remediation that does not hold, or cannot take the lock, is a failure line, and the control is tried once per cycle', async (t) => {
  const s = setup({ remediate: true });
  await s.cycle.run();
  s.a.state.value = 'bad';
  s.a.state.stuck = true;
  await s.cycle.run();
  t.is(s.a.state.applied, 1, 'once in the cycle, not in a loop');
  t.regex(
    s.lines.find((l) => l.startsWith('remediation failed'))!,
    /^remediation failed: control=alpha cis=9\.9\.9 changes=none reason="alpha: alpha is bad"$/,
  );

  const locked = setup({ remediate: true, lockFails: true });
  await locked.cycle.run();
  locked.b.state.value = 'bad';
  await locked.cycle.run();
  t.is(locked.b.state.applied, 0);
  t.regex(locked.lines.find((l) => l.startsWith('remediation failed'))!, /reason="another run holds the lock on \/run\/k3s-hostprep\/apply\.lock \(pid 42\)"/);
});

test('the metrics file follows every cycle with the drift counts; a file that cannot be written is said once', async (t) => {
  const s = setup({ metrics: METRICS });
  await s.cycle.run();
  s.a.state.value = 'bad';
  await s.cycle.run();
  await s.cycle.run();
  const text = fs.readFileSync(s.host.file(METRICS), 'utf8');
  t.regex(text, /^k3s_hostprep_watch_cycles_total 3$/m);
  t.regex(text, /^k3s_hostprep_drift_total\{id="alpha",cis="9\.9\.9"\} 1$/m);
  t.regex(text, /^k3s_hostprep_control_status\{id="alpha",cis="9\.9\.9"\} 0$/m);
  t.regex(text, /^k3s_hostprep_watch_interval_seconds 5$/m);

  const blocked = setup({ metrics: METRICS });
  blocked.host.write('/var/lib/node_exporter', 'a file where a directory belongs');
  for (let i = 0; i < 3; i++) await blocked.cycle.run();
  t.is(blocked.lines.filter((l) => l.startsWith('cannot write metrics')).length, 1, blocked.lines.join('\n'));
});
