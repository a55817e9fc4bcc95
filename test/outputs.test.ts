/**
 * The files check and apply leave for others, from the built command in a private mount
 * namespace: the node_exporter textfile (metrics.textfilePath) and the JUnit report (--junit).
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { HOSTILE, Sandbox, isRoot } from './helpers/sandbox.js';
import { promtool } from './helpers/promtool.js';

const it = isRoot() ? test : test.skip;
const CONFIG = '/etc/k3s-hostprep/config.yaml';
const METRICS = '/var/lib/node_exporter/textfile_collector/k3s_hostprep.prom';

it('check and apply write the textfile atomically; node_exporter would read a valid file', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, `metrics:\n  textfilePath: ${METRICS}\n`);
  const check = await s.cli('check');
  t.is(check.exitCode, 1);
  const before = fs.readFileSync(s.host(METRICS), 'utf8');
  t.is(promtool(before).exitCode, 0, promtool(before).output);
  // k3s-cis-1.9 (the newest line's benchmark) has no protect-kernel-defaults check: no number.
  t.regex(before, /^k3s_hostprep_control_status\{id="kernel-parameters",cis=""\} 0$/m);
  t.regex(before, /^k3s_hostprep_compliant 0$/m);
  t.regex(before, /^k3s_hostprep_info\{version="[^"]+",command="check",role="server"\} 1$/m);
  const stamp = Number(/^k3s_hostprep_last_run_timestamp_seconds (\S+)$/m.exec(before)![1]);
  t.true(Math.abs(stamp - Date.now() / 1000) < 60);

  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout);
  const after = fs.readFileSync(s.host(METRICS), 'utf8');
  t.is(promtool(after).exitCode, 0);
  t.regex(after, /^k3s_hostprep_compliant 1$/m);
  t.regex(after, /^k3s_hostprep_control_status\{id="kernel-parameters",cis=""\} 1$/m);
  t.deepEqual(fs.readdirSync(path.dirname(s.host(METRICS))), ['k3s_hostprep.prom'], 'no temporary file left');
  t.is(fs.statSync(s.host(METRICS)).mode & 0o777, 0o644);
  s.dispose();
});

it('a metrics path outside the collector directories is a config error (exit 2) and nothing is written', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, 'metrics:\n  textfilePath: /etc/cron.d/evil.prom\n');
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 2);
  t.regex(
    apply.stderr,
    /config\.yaml: metrics\.textfilePath: expected an absolute file path below \/var\/lib\/node_exporter or \/var\/lib\/prometheus or \/run\/node_exporter or \/var\/lib\/k3s-hostprep, got "\/etc\/cron\.d\/evil\.prom"/,
  );
  t.deepEqual(s.list('var-lib'), []);
  t.deepEqual(s.list('etc-sysctl.d'), []);
  s.dispose();
});

it('a metrics file that cannot be written is a host error (exit 3) after the report', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, `metrics:\n  textfilePath: ${METRICS}\n`);
  // A symlink where the file goes: never written through.
  fs.mkdirpSync(path.dirname(s.host(METRICS)));
  fs.symlinkSync('/etc/passwd', s.host(METRICS));
  const check = await s.cli('check');
  t.is(check.exitCode, 3);
  t.regex(check.stdout, /Verdict: NOT COMPLIANT/);
  t.regex(check.stderr, /cannot write metrics to \/var\/lib\/node_exporter\/textfile_collector\/k3s_hostprep\.prom: .*not a regular file/);
  t.true(fs.lstatSync(s.host(METRICS)).isSymbolicLink());
  s.dispose();
});

it('apply gates K3s: a metrics file it cannot write is a warning that leaves its verdict and exit code alone', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write(CONFIG, `metrics:\n  textfilePath: ${METRICS}\n`);
  fs.mkdirpSync(path.dirname(s.host(METRICS)));
  fs.symlinkSync('/etc/passwd', s.host(METRICS));
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  t.regex(apply.stdout, /Verdict: COMPLIANT/);
  t.regex(
    apply.stderr,
    /^k3s-hostprep: cannot write metrics to \/var\/lib\/node_exporter\/textfile_collector\/k3s_hostprep\.prom: .*not a regular file.* \(apply goes on: metrics never stop K3s\)\n$/,
  );
  t.is(apply.stderr.split('\n').length, 2, 'one line');
  t.true(fs.lstatSync(s.host(METRICS)).isSymbolicLink());
  s.dispose();
});

it('check --junit writes a JUnit report a CI pipeline can read; apply --junit too', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const junit = s.path('out', 'report.xml');
  fs.mkdirpSync(path.dirname(junit));
  const check = await s.cli('check', '--junit', junit);
  t.is(check.exitCode, 1);
  const xml = fs.readFileSync(junit, 'utf8');
  t.regex(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="k3s-hostprep check" tests="\d+" failures="[1-9]\d*"/);
  t.regex(
    xml,
    /<testcase classname="kernel-parameters" name="vm\.overcommit_memory">\n\s+<failure message="invalid kernel flag: vm\/overcommit_memory, expected value: 1, actual value: 0" type="fail">/,
  );
  const apply = await s.cli('apply', '--junit', junit);
  t.is(apply.exitCode, 0);
  const passed = fs.readFileSync(junit, 'utf8');
  t.regex(passed, /<testsuites name="k3s-hostprep apply" tests="\d+" failures="0" errors="0"/);
  t.notRegex(passed, /<failure/);
  t.deepEqual(fs.readdirSync(path.dirname(junit)), ['report.xml']);

  const bad = await s.cli('check', '--junit', s.path('missing-dir', 'r.xml'));
  t.is(bad.exitCode, 3);
  t.regex(bad.stderr, /cannot write the JUnit report to .*missing-dir\/r\.xml: ENOENT/);
  t.is((await s.cli('plan', '--junit', junit)).exitCode, 2, 'plan takes no --junit');
  t.is((await s.cli('check', '--junit=')).exitCode, 2);
  s.dispose();
});
