import test from 'ava';
import { DriftTracker } from '../../src/watch/state.js';
import { kernelReport } from '../report/fixtures.js';

const report = kernelReport;

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
