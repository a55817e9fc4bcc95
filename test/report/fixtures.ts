import type { Status } from '../../src/controls/types.js';
import type { Report } from '../../src/report/model.js';

/** A report with every status, and values that need escaping in XML and Prometheus labels. */
export function sampleReport(overrides: Partial<Report> = {}): Report {
  return {
    tool: 'k3s-hostprep',
    version: '0.1.0',
    command: 'check',
    role: 'server',
    roleSource: '--role',
    root: '/',
    config: '(defaults)',
    k3s: { version: 'v1.30.0+k3s1', source: '--k3s-version' },
    benchmark: { name: 'k3s-cis-1.9', source: 'test' },
    host: null,
    controls: [
      {
        id: 'kernel-parameters',
        cis: '4.2.6',
        title: 'Kernel parameters',
        scored: true,
        status: 'fail',
        remediation: 'sysctl -p <file> && echo "done" & exit',
        findings: [
          {
            item: 'vm.overcommit_memory',
            status: 'fail',
            expected: '1',
            actual: '0',
            reason: 'invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0',
          },
          { item: 'kernel.panic', status: 'pass', expected: '10', actual: '10', reason: '' },
        ],
        changes: [],
      },
      {
        id: 'directories',
        cis: null,
        title: 'Directories',
        scored: true,
        status: 'error',
        remediation: 'mkdir',
        findings: [
          {
            item: '/var/lib/rancher/k3s/server/logs',
            status: 'error',
            expected: 'directory',
            actual: 'unreadable',
            reason: 'EACCES: <denied> "quoted" \'single\' \u0001 ctrl',
            cis: '1.2.19',
          },
        ],
        changes: [],
      },
      {
        id: 'audit-policy',
        cis: '3.2.1',
        title: 'Audit "policy"\nfile',
        scored: true,
        status: 'skip',
        remediation: 'n/a',
        findings: [{ item: 'audit-policy', status: 'skip', expected: 'role server', actual: 'role agent', reason: 'applies to server nodes only' }],
        changes: [],
      },
      {
        id: 'odd\\label "x"',
        cis: '9.9',
        title: 'Unscored',
        scored: false,
        status: 'warn',
        remediation: 'none',
        findings: [{ item: 'thing', status: 'warn', expected: 'a', actual: 'b', reason: 'unscored' }],
        changes: [],
      },
    ],
    hostErrors: [],
    backups: [],
    summary: { pass: 1, fail: 1, warn: 1, skip: 1, error: 1, changes: 0 },
    compliant: false,
    exitCode: 3,
    ...overrides,
  };
}

/** The sample report with one kernel value, passing at 1: the drift tracker's and the journal's tests' input. */
export function kernelReport(value: string, status: Status = value === '1' ? 'pass' : 'fail'): Report {
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
