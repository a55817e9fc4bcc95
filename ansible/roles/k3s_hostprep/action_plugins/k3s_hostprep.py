# -*- coding: utf-8 -*-
# Apache-2.0 (see the repository's package.json)
"""
Controller side of the k3s_hostprep module: runs the module once (a converged node costs one
module run, no file transfer), transfers the release tarball only when the node asks for it, and
keeps each node's reports on the controller with one fleet summary:

  <report_dir>/<host>.json       the agent's JSON report (apply; <host>.plan.json in check mode)
  <report_dir>/<host>.xml        the agent's JUnit report
  <report_dir>/summary.json      every node of this run: compliant or not, and why
  <report_dir>/summary.txt       the same, one line per node

The summary is rewritten after each node (under a lock), so a rollout that stops part-way still
leaves one that says which nodes were reached and which were not.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import json
import os
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

CONTROLLER_ONLY = ('release_file', 'report_dir')


def run_id():
    """This ansible-playbook run: the controller's main process (the parent of every worker) and its start time."""
    ppid = os.getppid()
    try:
        with open('/proc/%d/stat' % ppid) as f:
            started = f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        started = '0'
    return '%d-%s' % (ppid, started)


def write(path, text):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


def first_failure(report):
    for c in report.get('controls', []):
        for f in c.get('findings', []):
            if f.get('status') in ('fail', 'error') and c.get('scored', True):
                return '[%s] %s' % (c.get('id'), f.get('reason') or f.get('item'))
    return None


def summarize(report_dir, hosts, run):
    outcomes = {}
    odir = os.path.join(report_dir, '.outcomes')
    for name in os.listdir(odir):
        if not name.endswith('.json'):
            continue
        try:
            with open(os.path.join(odir, name)) as f:
                o = json.load(f)
        except (OSError, ValueError):
            continue
        if o.get('run') == run:
            outcomes[o['host']] = o
    nodes = []
    for host in hosts:
        o = outcomes.get(host) or {'host': host, 'state': 'not reached', 'reason': 'no result in this run: the rollout stopped before its batch, or it was not targeted'}
        nodes.append(o)
    counts = {}
    for o in nodes:
        counts[o['state']] = counts.get(o['state'], 0) + 1
    summary = {'run': run, 'finished': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'nodes': len(nodes), 'counts': counts,
               'compliant': sorted(o['host'] for o in nodes if o['state'] == 'compliant'),
               'not_compliant': [{'host': o['host'], 'state': o['state'], 'reason': o.get('reason', '')} for o in nodes if o['state'] != 'compliant']}
    write(os.path.join(report_dir, 'summary.json'), json.dumps(summary, indent=2) + '\n')
    width = max([len(o['host']) for o in nodes] + [4])
    lines = ['k3s-hostprep fleet report: %d node(s): %s' % (len(nodes), ', '.join('%d %s' % (v, k) for k, v in sorted(counts.items())))]
    for o in nodes:
        detail = o.get('reason') or ('%d change(s)' % o.get('changes', 0) if 'changes' in o else '')
        lines.append('%s  %-14s %s' % (o['host'].ljust(width), o['state'], detail))
    write(os.path.join(report_dir, 'summary.txt'), '\n'.join(lines) + '\n')


class ActionModule(ActionBase):
    TRANSFERS_FILES = False  # the tarball travels only when the module asks for it

    def _record(self, report_dir, task_vars, outcome, result):
        if not report_dir:
            return
        host = task_vars.get('inventory_hostname')
        check = self._play_context.check_mode
        os.makedirs(os.path.join(report_dir, '.outcomes'), exist_ok=True)
        report = result.get('report') if result else None
        if report is not None:
            write(os.path.join(report_dir, '%s.%s' % (host, 'plan.json' if check else 'json')), json.dumps(report, indent=2) + '\n')
        if result and result.get('junit') and not check:
            write(os.path.join(report_dir, '%s.xml' % host), result['junit'])
        run = run_id()
        outcome.update({'host': host, 'run': run, 'check_mode': check})
        write(os.path.join(report_dir, '.outcomes', '%s.json' % host), json.dumps(outcome) + '\n')
        with open(os.path.join(report_dir, '.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            summarize(report_dir, task_vars.get('ansible_play_hosts_all') or [host], run)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        release_file = args.pop('release_file', None)
        report_dir = args.pop('report_dir', None)
        if report_dir:
            report_dir = os.path.abspath(os.path.expanduser(report_dir))
        try:
            res = self._execute_module(module_name='k3s_hostprep', module_args=args, task_vars=task_vars)
            if res.get('needs_release'):
                if not release_file:
                    raise AnsibleActionFail('k3s-hostprep is not installed at release %s and neither k3s_hostprep_release_file nor '
                                            'k3s_hostprep_release_url is set' % args.get('release_sha256'))
                source = self._find_needle('files', release_file)
                tmpdir = self._make_tmp_path()
                try:
                    remote = self._connection._shell.join_path(tmpdir, os.path.basename(source))
                    self._transfer_file(source, remote)
                    self._fixup_perms2((tmpdir, remote))
                    res = self._execute_module(module_name='k3s_hostprep', module_args=dict(args, release_src=remote), task_vars=task_vars)
                finally:
                    self._remove_tmp_path(tmpdir)
        except AnsibleConnectionFailure as e:
            self._record(report_dir, task_vars, {'state': 'unreachable', 'reason': to_text(e).strip().splitlines()[-1]}, None)
            raise
        except AnsibleActionFail as e:
            self._record(report_dir, task_vars, {'state': 'failed', 'reason': to_text(e)}, None)
            raise
        result.update(res)
        report = res.get('report') or {}
        if res.get('failed'):
            code = res.get('exit_code')
            state = {1: 'not compliant', 2: 'config error', 3: 'host error'}.get(code, 'failed')
            outcome = {'state': state, 'reason': res.get('msg', ''), 'exit_code': code}
        elif self._play_context.check_mode:
            # plan says what apply would change, not whether the node would then be compliant.
            outcome = {'state': 'would change' if res.get('changed') else 'nothing to change', 'changes': res.get('changes', 0)}
        else:
            outcome = {'state': 'compliant' if res.get('compliant') else 'not compliant', 'changes': res.get('changes', 0)}
            if not res.get('compliant'):
                outcome['reason'] = first_failure(report) or 'see the report'
        outcome['role'] = report.get('role')
        self._record(report_dir, task_vars, outcome, res)
        # The reports live on the controller; the task's result stays small enough to read.
        for key in ('junit', 'report', 'install_output'):
            result.pop(key, None)
        if report:
            result['summary'] = report.get('summary')
            if report_dir:
                result['report_file'] = os.path.join(report_dir, '%s.%s' % (task_vars.get('inventory_hostname'), 'plan.json' if self._play_context.check_mode else 'json'))
        return result
