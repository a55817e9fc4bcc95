import test from 'ava';
import type { Status } from '../../src/controls/types.js';
import type { Report } from '../../src/report/model.js';
import { line, logfmtValue, PRIORITY, transitionLine, transitionLines } from '../../src/watch/journal.js';
import { DriftTracker } from '../../src/watch/state.js';
import { kernelReport, sampleReport } from '../report/fixtures.js';

const report = kernelReport;

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

test('warnings at the first cycle are one notice line; a failure at start and a later warning keep their own lines', (t) => {
  const base = sampleReport();
  const finding = (item: string, status: Status, cis: string) => ({ item, status, expected: 'x', actual: 'y', reason: 'r', cis });
  const withFindings = (findings: ReturnType<typeof finding>[]): Report => ({ ...base, controls: [{ ...base.controls[0]!, status: 'fail', findings }] });
  const tracker = new DriftTracker();
  const start = tracker.observe(
    withFindings([finding('a', 'warn', '1.2.3'), finding('b', 'warn', '1.2.11'), finding('c', 'fail', '1.1.20')]),
    Date.UTC(2026, 0, 1),
  );
  const lines = transitionLines(start.items, true);
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^<4>not compliant at start: .*cis=1\.1\.20/);
  t.is(lines[1], '<5>warnings at start: count=2 checks=1.2.3,1.2.11\n');
  const later = tracker.observe(
    withFindings([finding('a', 'warn', '1.2.3'), finding('b', 'warn', '1.2.11'), finding('c', 'warn', '1.1.20')]),
    Date.UTC(2026, 0, 2),
  );
  const next = transitionLines(later.items, true);
  t.is(next.length, 1);
  t.regex(next[0]!, /^<4>drift changed: .*cis=1\.1\.20 .*status=warn/);
});
