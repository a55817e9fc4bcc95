/**
 * The Prometheus rules shipped beside the textfile metrics: promtool checks them, and runs their
 * unit tests (input series that fire and do not fire each alert). A rule broken on purpose makes
 * those tests fail, so they can fail.
 */
import test from 'ava';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import tmp from 'tmp';
import { REPO } from './helpers/sandbox.js';

const RULES = path.join(REPO, 'prometheus/k3s-hostprep.rules.yml');
const TESTS = path.join(REPO, 'prometheus/k3s-hostprep.rules.test.yml');

async function promtool(...args: string[]) {
  const r = await execa('promtool', args, { reject: false, all: true });
  return { exitCode: r.exitCode ?? -1, out: String(r.all) };
}

test('promtool check rules accepts the rules', async (t) => {
  const r = await promtool('check', 'rules', RULES);
  t.is(r.exitCode, 0, r.out);
  t.regex(r.out, /SUCCESS: 7 rules found/);
});

test('promtool test rules: every alert fires on its series and stays quiet on the others', async (t) => {
  const r = await promtool('test', 'rules', TESTS);
  t.is(r.exitCode, 0, r.out);
  const tests = fs.readFileSync(TESTS, 'utf8');
  for (const alert of [
    'K3sHostprepNodeNotCompliant',
    'K3sHostprepControlDrifted',
    'K3sHostprepWatchStale',
    'K3sHostprepRemediationFailing',
    'K3sHostprepHostError',
  ]) {
    const cases = tests.split('\n').filter((l) => l.trim() === `alertname: ${alert}`).length;
    t.true(cases >= 2, `${alert}: a firing and a quiet case`);
  }
});

for (const [what, from, to] of [
  ['not compliant without the exit code', 'k3s_hostprep_compliant == 0 and on (instance, job) k3s_hostprep_exit_code == 1', 'k3s_hostprep_compliant == 0'],
  ['staleness without the interval', 'clamp_min(3 * k3s_hostprep_watch_interval_seconds, 300)', 'clamp_min(300 * k3s_hostprep_watch_interval_seconds, 300)'],
  ['drift without the current status', 'k3s_hostprep_control_status == 0\n            and on (instance, job, id, cis) increase', 'increase'],
] as const) {
  test(`a broken rule fails the unit tests: ${what}`, async (t) => {
    const dir = tmp.dirSync({ unsafeCleanup: true }).name;
    const rules = fs.readFileSync(RULES, 'utf8');
    t.true(rules.includes(from));
    fs.writeFileSync(path.join(dir, 'k3s-hostprep.rules.yml'), rules.replace(from, to));
    fs.copyFileSync(TESTS, path.join(dir, 'k3s-hostprep.rules.test.yml'));
    const r = await promtool('test', 'rules', path.join(dir, 'k3s-hostprep.rules.test.yml'));
    t.not(r.exitCode, 0, r.out);
  });
}
