/** The one line a failed run leaves on stderr (and in the journal of a failed unit). */
import test from 'ava';
import { failureLine } from '../../src/report/failure-line.js';
import type { Report } from '../../src/report/model.js';
import { Sandbox, isRoot } from '../helpers/sandbox.js';

const asRoot = isRoot() ? test : test.skip;

function report(overrides: Partial<Report>): Report {
  return {
    tool: 'k3s-hostprep',
    version: '0',
    command: 'apply',
    role: 'server',
    roleSource: '',
    root: '/',
    config: '',
    k3s: { version: 'v1.30.4+k3s1', source: 'test' },
    benchmark: { name: 'k3s-cis-1.9', source: 'test' },
    host: null,
    controls: [],
    hostErrors: [],
    backups: [],
    summary: { pass: 0, fail: 0, warn: 0, skip: 0, error: 0, changes: 0 },
    compliant: false,
    exitCode: 1,
    ...overrides,
  };
}

test('the first scored failure, a count of the rest, and the journal priority when asked', (t) => {
  const r = report({
    controls: [
      {
        id: 'x',
        cis: null,
        title: '',
        scored: false,
        status: 'warn',
        remediation: '',
        changes: [],
        findings: [{ item: 'u', status: 'warn', expected: '', actual: '', reason: 'unscored' }],
      },
      {
        id: 'kernel-parameters',
        cis: '4.2.6',
        title: '',
        scored: true,
        status: 'fail',
        remediation: '',
        changes: [],
        findings: [
          {
            item: 'vm.overcommit_memory',
            status: 'fail',
            expected: '1',
            actual: '0',
            reason: 'invalid kernel flag: vm/overcommit_memory,\n expected value: 1, actual value: 0',
          },
          { item: 'kernel.panic', status: 'fail', expected: '10', actual: '-1', reason: '' },
        ],
      },
    ],
  });
  t.is(
    failureLine(r, false),
    'k3s-hostprep: apply: NOT COMPLIANT: [kernel-parameters] invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0 (and 1 more; the report above lists them)\n',
  );
  t.true(failureLine(r, true).startsWith('<3>k3s-hostprep: apply: NOT COMPLIANT: '));
  t.is(
    failureLine(report({ exitCode: 3, hostErrors: ['kernel-parameters: sysctl -p exited 255'] }), false),
    'k3s-hostprep: apply: HOST ERROR: kernel-parameters: sysctl -p exited 255\n',
  );
});

asRoot('a failed apply leaves exactly one line on stderr that names the file, the line and the key', async (t) => {
  const s = new Sandbox();
  s.write('/etc/sysctl.d/99-tuning.conf', '# local tuning\nvm.overcommit_memory = 2\n');
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 1);
  t.is(apply.stderr.split('\n').length, 2, apply.stderr);
  t.regex(apply.stderr, /^k3s-hostprep: apply: NOT COMPLIANT: \[kernel-parameters-boot\] \/etc\/sysctl\.d\/99-tuning\.conf:2 sets vm\.overcommit_memory=2/);
  const ok = new Sandbox();
  const fine = await ok.cli('apply');
  t.is(fine.exitCode, 0);
  t.is(fine.stderr, '');
  s.dispose();
  ok.dispose();
});
