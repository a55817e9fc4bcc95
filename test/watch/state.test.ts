import test from 'ava';
import { DriftTracker } from '../../src/watch/state.js';
import { transitionLine, logfmtValue, line, PRIORITY } from '../../src/watch/journal.js';
import { planWatches, relevant, watchedPaths } from '../../src/watch/targets.js';
import { CONTROLS } from '../../src/controls/index.js';
import { sampleReport } from '../report/fixtures.js';
import type { Report } from '../../src/report/model.js';
import type { Status } from '../../src/controls/types.js';

function report(value: string, status: Status = value === '1' ? 'pass' : 'fail'): Report {
  const base = sampleReport();
  return {
    ...base,
    controls: [
      {
        ...base.controls[0]!,
        status,
        findings: [{ item: 'vm.overcommit_memory', status, expected: '1', actual: value, reason: status === 'pass' ? '' : 'drifted' }],
      },
    ],
  };
}

test('a state is reported once when it changes, never again while it holds', (t) => {
  const tracker = new DriftTracker();
  t.deepEqual(tracker.observe(report('1'), 1000).items, [], 'passing at start: nothing to say');
  const drift = tracker.observe(report('0'), 2000);
  t.is(drift.items.length, 1);
  t.is(drift.items[0]!.kind, 'drift');
  t.is(drift.items[0]!.state.since, 2000);
  t.deepEqual(drift.controls, [{ control: 'kernel-parameters', cis: '4.2.6', drifted: true, status: 'fail' }]);
  for (let i = 0; i < 100; i++) {
    const again = tracker.observe(report('0'), 3000 + i);
    t.is(again.items.length, 0);
    t.is(again.controls.length, 0);
  }
  const changed = tracker.observe(report('2'), 5000);
  t.is(changed.items[0]!.kind, 'changed');
  t.deepEqual(changed.controls, [], 'still failing: the control did not change');
  const restored = tracker.observe(report('1'), 65000);
  t.is(restored.items[0]!.kind, 'restored');
  t.is(restored.items[0]!.previous!.since, 5000);
  t.false(restored.controls[0]!.drifted);
  t.deepEqual(tracker.failing(), []);
});

test('at the first cycle every failing item is reported and the control counts as drifted', (t) => {
  const tracker = new DriftTracker();
  const first = tracker.observe(report('0'), 0);
  t.is(first.items[0]!.kind, 'initial');
  t.true(first.controls[0]!.drifted);
  t.is(tracker.failing().length, 1);
});

test('log lines: one line, priority prefix only for the journal, logfmt quoting', (t) => {
  const tracker = new DriftTracker();
  tracker.observe(report('1'), Date.UTC(2026, 0, 1, 0, 0, 0));
  const [drift] = tracker.observe(report('0'), Date.UTC(2026, 0, 1, 0, 1, 0)).items;
  const text = transitionLine(drift!, true);
  t.is(
    text,
    '<4>drift: control=kernel-parameters cis=4.2.6 item=vm.overcommit_memory status=fail expected=1 actual=0 since=2026-01-01T00:01:00Z was=pass was_actual=1 reason=drifted\n',
  );
  t.false(transitionLine(drift!, false).startsWith('<'));
  const [restored] = tracker.observe(report('1'), Date.UTC(2026, 0, 1, 0, 3, 0)).items;
  t.is(
    transitionLine(restored!, true),
    '<6>restored: control=kernel-parameters cis=4.2.6 item=vm.overcommit_memory status=pass expected=1 actual=1 since=2026-01-01T00:03:00Z was=fail drifted_for=2m\n',
  );
  t.is(logfmtValue('a b "c"\nd'), '"a b \\"c\\" d"');
  t.is(logfmtValue(''), '""');
  t.is(line(PRIORITY.err, 'x', { a: '1' }, true), '<3>x: a=1\n');
  t.notRegex(transitionLine(drift!, true).slice(0, -1), /\n/);
});

test('watch targets: files through their parent, drop-in directories themselves, missing paths through the nearest ancestor', (t) => {
  const existing = new Set(['/', '/etc', '/etc/sysctl.d', '/var', '/var/lib', '/usr', '/usr/lib', '/usr/lib/sysctl.d']);
  const plan = planWatches(['/etc/sysctl.d', '/etc/sysctl.conf', '/var/lib/rancher/k3s/server/manifests', '/usr/lib/sysctl.d'], (p) => existing.has(p));
  t.is(plan.get('/etc/sysctl.d'), null, 'all entries');
  t.deepEqual([...plan.get('/etc')!].sort(), ['sysctl.conf', 'sysctl.d']);
  t.deepEqual([...plan.get('/var/lib')!], ['rancher'], 'missing tree: watch for its first component');
  t.true(relevant(plan.get('/etc')!, 'sysctl.conf'));
  t.false(relevant(plan.get('/etc')!, 'resolv.conf'));
  t.true(relevant(null, 'anything'));
  const paths = watchedPaths(CONTROLS);
  for (const p of [
    '/etc/sysctl.d',
    '/run/sysctl.d',
    '/etc/sysctl.conf',
    '/etc/rancher/k3s',
    '/etc/sysctl.d/90-kubelet.conf',
    '/var/lib/rancher/k3s/server/audit.yaml',
    '/var/lib/rancher/k3s/server/manifests',
  ])
    t.true(paths.includes(p), p);
});
