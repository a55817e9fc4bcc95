import test from 'ava';
import { holds, labelValue, renderMetrics } from '../../src/report/prometheus.js';
import { sampleReport } from './fixtures.js';
import { promtool } from '../helpers/promtool.js';

test('a report renders as metrics promtool accepts, with escaped labels', (t) => {
  const text = renderMetrics({ report: sampleReport(), now: 1_700_000_000_123 });
  const check = promtool(text);
  t.is(check.exitCode, 0, check.output);
  t.regex(text, /^k3s_hostprep_control_status\{id="kernel-parameters",cis="4\.2\.6"\} 0$/m);
  t.regex(text, /^k3s_hostprep_control_status\{id="directories",cis=""\} 0$/m);
  t.regex(text, /^k3s_hostprep_control_status\{id="audit-policy",cis="3\.2\.1"\} 1$/m, 'not applicable holds');
  t.regex(text, /^k3s_hostprep_control_status\{id="odd\\\\label \\"x\\"",cis="9\.9"\} 1$/m, 'unscored warning holds; label escaped');
  t.regex(text, /^k3s_hostprep_control_state\{id="kernel-parameters",cis="4\.2\.6",state="fail"\} 1$/m);
  t.regex(text, /^k3s_hostprep_control_state\{id="kernel-parameters",cis="4\.2\.6",state="pass"\} 0$/m);
  t.regex(text, /^k3s_hostprep_compliant 0$/m);
  t.regex(text, /^k3s_hostprep_exit_code 3$/m);
  t.regex(text, /^k3s_hostprep_last_run_timestamp_seconds 1700000000\.123$/m);
  t.notRegex(text, /drift_total/, 'counters come from watch only');
  // Every control has exactly one state at 1.
  for (const c of sampleReport().controls) {
    const ones = text.split('\n').filter((l) => l.startsWith(`k3s_hostprep_control_state{id="${labelValue(c.id)}"`) && l.endsWith(' 1'));
    t.is(ones.length, 1, c.id);
  }
});

test('watch adds drift, remediation and cycle counters, still valid', (t) => {
  const report = sampleReport({ compliant: true, exitCode: 0 });
  const text = renderMetrics({
    report,
    now: 0,
    watch: { cycles: 42, drift: new Map([['kernel-parameters', 3]]), remediations: new Map([['kernel-parameters', { ok: 2, failed: 1 }]]) },
  });
  const check = promtool(text);
  t.is(check.exitCode, 0, check.output);
  t.regex(text, /^k3s_hostprep_drift_total\{id="kernel-parameters",cis="4\.2\.6"\} 3$/m);
  t.regex(text, /^k3s_hostprep_drift_total\{id="directories",cis=""\} 0$/m);
  t.regex(text, /^k3s_hostprep_remediations_total\{id="kernel-parameters",cis="4\.2\.6",result="failed"\} 1$/m);
  t.regex(text, /^k3s_hostprep_watch_cycles_total 42$/m);
  t.regex(text, /^k3s_hostprep_info\{version="0\.1\.0",command="watch",role="server"\} 1$/m);
  t.regex(text, /^k3s_hostprep_compliant 1$/m);
  t.notRegex(text, /watch_interval_seconds/, 'no interval given, none exported');
});

test('watch exports its interval, so that a stale last run can be told from a slow one', (t) => {
  const report = sampleReport({ compliant: true, exitCode: 0 });
  const text = renderMetrics({ report, now: 0, watch: { cycles: 1, drift: new Map(), remediations: new Map(), intervalSeconds: 60 } });
  const check = promtool(text);
  t.is(check.exitCode, 0, check.output);
  t.regex(text, /^# TYPE k3s_hostprep_watch_interval_seconds gauge\nk3s_hostprep_watch_interval_seconds 60$/m);
});

test('promtool itself rejects a broken exposition (the check can fail)', (t) => {
  t.not(promtool('k3s_hostprep_compliant{id="x} 1\n').exitCode, 0);
});

test('holds: pass, skip and warn hold; fail and error do not', (t) => {
  t.deepEqual((['pass', 'skip', 'warn', 'fail', 'error'] as const).map(holds), [true, true, true, false, false]);
});
