#!/usr/bin/python
# -*- coding: utf-8 -*-
# Apache-2.0 (see the repository's package.json)
"""Installs, configures and converges k3s-hostprep on one node; the outcome is the agent's own report."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: k3s_hostprep
short_description: Install, configure and converge k3s-hostprep on a K3s node
description:
  - Installs the k3s-hostprep release tarball (checked by SHA-256) with the agent's own C(k3s-hostprep install),
    writes C(/etc/k3s-hostprep/config.yaml) only after C(k3s-hostprep validate) accepted the new file, then runs
    C(k3s-hostprep apply --json) and reports its result.
  - C(changed) is true when the agent's report lists changes (or the release or the configuration was replaced);
    C(failed) when the agent exits 1 (not compliant), 2 (configuration error) or 3 (host error), with the agent's
    one-line reason as C(msg).
  - In check mode nothing on the node changes; the agent's C(plan) runs (against the new configuration and, when
    the release is not installed yet, against the new release unpacked in a scratch directory).
  - In diff mode the file diffs of the agent's report are returned (and the configuration file's).
  - Use it through the C(k3s_hostprep) role, whose action plugin transfers the tarball only when the node needs it
    and writes each node's reports on the controller.
options:
  release_sha256:
    description: SHA-256 of the release tarball, hex.
    type: str
    required: true
  release_src:
    description: The tarball on the node (set by the action plugin after transferring it).
    type: path
  release_url:
    description: Where the node downloads the tarball from when it is not installed.
    type: str
  config:
    description: The whole text of the configuration file.
    type: str
    required: true
  config_path:
    description: Where the configuration lives.
    type: path
    default: /etc/k3s-hostprep/config.yaml
  force:
    description: C(apply --force), replace files k3s-hostprep did not write (a backup is kept beside them).
    type: bool
    default: false
  wait:
    description: Seconds C(apply) waits for another run's lock.
    type: int
    default: 60
  junit_path:
    description: Where the node keeps the JUnit report of the last apply.
    type: path
    default: /var/lib/k3s-hostprep/ansible/report.xml
'''

RETURN = r'''
report:
  description: The agent's JSON report (apply, or plan in check mode).
  type: dict
junit:
  description: The JUnit XML of the apply.
  type: str
exit_code:
  description: The agent's exit code.
  type: int
compliant:
  description: Whether the node is compliant after the run.
  type: bool
installed:
  description: Whether the release was installed by this run.
  type: bool
config_changed:
  description: Whether the configuration file was replaced.
  type: bool
'''

import json
import os
import re
import stat
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

BIN = '/usr/local/bin/k3s-hostprep'
STATE_DIR = '/var/lib/k3s-hostprep/ansible'
MARKER = STATE_DIR + '/release.json'
HEADER = '# Written by Ansible (role k3s_hostprep): edit the role variables, not this file.\n'


def copy_hashed(source, into):
    """Copies the tarball into the root-only scratch directory and hashes the copy in the same pass:
    the transferred file sits in the ssh user's temporary directory, where that user could swap or
    rewrite it between a check and a use. Only the copy is checked, and only the copy is unpacked."""
    import hashlib  # only when a release is installed: a converged node's run stays short
    h = hashlib.sha256()
    target = os.path.join(into, 'release.tar.gz')
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(source, 'rb') as src, os.fdopen(fd, 'wb') as dst:
        for block in iter(lambda: src.read(1 << 20), b''):
            h.update(block)
            dst.write(block)
    return target, h.hexdigest()


def installed_release(sha256):
    """Whether the installed executable is the one this release installed (by its inode, size and mtime)."""
    try:
        with open(MARKER) as f:
            marker = json.load(f)
        st = os.lstat(BIN)
    except (OSError, ValueError):
        return False
    return (marker.get('sha256') == sha256 and stat.S_ISREG(st.st_mode) and marker.get('ino') == st.st_ino
            and marker.get('size') == st.st_size and marker.get('mtime_ns') == st.st_mtime_ns)


def write_atomic(path, data, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.ansible-' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def extract(module, tarball, into):
    """Unpacks the release, refusing anything but plain files and directories inside it."""
    import tarfile
    os.mkdir(into, 0o700)
    with tarfile.open(tarball, 'r:gz') as tar:
        members = tar.getmembers()
        for m in members:
            parts = m.name.split('/')
            if m.name.startswith('/') or '..' in parts or not (m.isfile() or m.isdir()):
                module.fail_json(msg='release tarball: refusing member %r (only plain files and directories inside it)' % m.name)
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(into, members=members, filter='data')
        else:
            tar.extractall(into, members=members)
    found = [m.name for m in members if m.isfile() and m.name.split('/')[-1] == 'k3s-hostprep' and len(m.name.split('/')) == 2]
    if len(found) != 1:
        module.fail_json(msg='release tarball: expected one <dir>/k3s-hostprep, found %d' % len(found))
    exe = os.path.join(into, found[0])
    os.chmod(exe, 0o755)
    return exe


def scratch():
    """A private directory (0700, root) for the tarball's copy, the unpacked release and, in check mode,
    the new configuration; removed when the module ends. Under /var/lib rather than /tmp: a hardened
    node mounts /tmp noexec, and the unpacked release must run."""
    return tempfile.mkdtemp(prefix='.k3s-hostprep-ansible-', dir='/var/lib' if os.path.isdir('/var/lib') else None)


def run(module, args):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def reason(stderr, fallback):
    """The agent's message on stderr as one line: its last k3s-hostprep: line with the problem lines
    listed under it (a configuration error lists each problem on its own line), else the fallback."""
    lines = stderr.splitlines()
    starts = [i for i, l in enumerate(lines) if l.startswith('k3s-hostprep:')]
    if not starts:
        return (stderr.strip().splitlines() or [fallback])[-1]
    first = starts[-1]
    more = [l.strip() for l in lines[first + 1:] if l.startswith('  ')]
    return ' '.join([lines[first]] + more)


def file_diffs(report):
    diffs, other = [], []
    for control in report.get('controls', []):
        for c in control.get('changes', []):
            if c.get('kind') == 'file':
                diffs.append({'before_header': c['path'] if c.get('before') is not None else '/dev/null', 'after_header': c['path'],
                              'before': c.get('before') or '', 'after': c.get('after', '')})
            elif c.get('kind') == 'sysctl':
                other.append('sysctl %s: %s -> %s' % (c['key'], c['from'], c['to']))
            elif c.get('kind') == 'mkdir':
                other.append('mkdir %s (mode %o)' % (c['path'], c['mode']))
            elif c.get('kind') == 'chmod':
                other.append('chmod %s: %o -> %o' % (c['path'], c['from'], c['to']))
            elif c.get('kind') == 'chown':
                other.append('chown %s: %s -> %s' % (c['path'], c['from'], c['to']))
            elif c.get('kind') == 'remove':
                other.append('remove %s (%s)' % (c['path'], c.get('why', '')))
    if other:
        diffs.append({'prepared': '\n'.join(other) + '\n'})
    return diffs


def main():
    module = AnsibleModule(argument_spec=dict(
        release_sha256=dict(type='str', required=True),
        release_src=dict(type='path'),
        release_url=dict(type='str'),
        config=dict(type='str', required=True),
        config_path=dict(type='path', default='/etc/k3s-hostprep/config.yaml'),
        force=dict(type='bool', default=False),
        wait=dict(type='int', default=60),
        junit_path=dict(type='path', default=STATE_DIR + '/report.xml'),
    ), supports_check_mode=True)
    p = module.params
    want = p['release_sha256'].strip().lower()
    if not re.match(r'^[0-9a-f]{64}$', want):
        module.fail_json(msg='release_sha256 (k3s_hostprep_release_sha256): expected 64 hex digits, got %r' % p['release_sha256'])
    check = module.check_mode
    result = dict(changed=False, installed=False, config_changed=False, diff=[])
    work = None
    config_tmp = None
    try:
        # 1. The executable: the installed one when it is this release, else the release unpacked.
        exe = BIN
        install = not installed_release(want)
        if install:
            tarball = p['release_src']
            if tarball is None and p['release_url']:
                from ansible.module_utils.urls import fetch_file
                tarball = fetch_file(module, p['release_url'])
            if tarball is None:
                module.exit_json(changed=False, needs_release=True)
            work = scratch()
            copy, got = copy_hashed(tarball, work)
            if got != want:
                module.fail_json(msg='release tarball %s has SHA-256 %s, expected %s: nothing installed' % (p['release_url'] or 'transferred', got, want))
            exe = extract(module, copy, os.path.join(work, 'release'))

        # 2. The configuration: a new file replaces the old one only once the agent has validated it.
        config_path = p['config_path']
        desired = (HEADER + p['config']).encode('utf-8')
        try:
            with open(config_path, 'rb') as f:
                current = f.read()
        except (IOError, OSError):
            current = None
        if desired != current:
            # Check mode writes nothing beside the real file: the new one waits in a scratch directory.
            directory = os.path.dirname(config_path)
            if check:
                work = work or scratch()
                directory = work
            elif not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            config_tmp = write_atomic(os.path.join(directory, os.path.basename(config_path)), desired, 0o600)
            rc, out, err = run(module, [exe, 'validate', '--config', config_tmp])
            if rc != 0:
                module.fail_json(msg=reason(err, 'k3s-hostprep validate exited %d' % rc).replace(config_tmp, config_path + ' (new)'), exit_code=rc)
            if module._diff:
                result['diff'].append({'before_header': config_path if current is not None else '/dev/null', 'after_header': config_path,
                                       'before': (current or b'').decode('utf-8', 'replace'), 'after': desired.decode('utf-8')})
            if not check:
                os.rename(config_tmp, config_path)
                config_tmp = None
            result['config_changed'] = True

        # 3. The agent's own installer: the executable, its units. Again when the configuration changed
        #    (install reads watch.enabled).
        if not check and (install or result['config_changed']):
            rc, out, err = run(module, [exe, 'install', '--binary', exe])
            if rc != 0:
                module.fail_json(msg=reason(err, 'k3s-hostprep install exited %d' % rc), exit_code=rc, install_output=out)
            if install:
                st = os.lstat(BIN)
                if not os.path.isdir(STATE_DIR):
                    os.makedirs(STATE_DIR, 0o700)
                marker = json.dumps({'sha256': want, 'ino': st.st_ino, 'size': st.st_size, 'mtime_ns': st.st_mtime_ns}).encode()
                os.rename(write_atomic(MARKER, marker, 0o600), MARKER)
                result['installed'] = True
            if 'nothing to change' not in out:
                result['install_output'] = out.splitlines()
                result['changed'] = True
        elif install:
            result['installed'] = True

        # 4. Converge (check mode: plan). Outcome from the agent's report.
        if not check and not os.path.isdir(os.path.dirname(p['junit_path'])):
            os.makedirs(os.path.dirname(p['junit_path']), 0o700)
        if check:
            args = [exe, 'plan', '--json'] + (['--config', config_tmp] if config_tmp else [])
        else:
            args = [exe, 'apply', '--json', '--junit', p['junit_path'], '--wait', str(p['wait'])]
        if p['force']:
            args.append('--force')
        rc, out, err = run(module, args)
        try:
            report = json.loads(out)
        except ValueError:
            module.fail_json(msg=reason(err, 'k3s-hostprep exited %d without a report' % rc), exit_code=rc, stderr=err)
        result['exit_code'] = rc
        result['report'] = report
        if 'error' in report:
            module.fail_json(msg=reason(err, report['error'].get('message', '')), **result)
        changes = report.get('summary', {}).get('changes', 0)
        result['changes'] = changes
        result['changed'] = result['changed'] or result['config_changed'] or result['installed'] or changes > 0
        if module._diff:
            result['diff'].extend(file_diffs(report))
        if not check:
            result['compliant'] = bool(report.get('compliant'))
            try:
                with open(p['junit_path']) as f:
                    result['junit'] = f.read()
            except (IOError, OSError):
                pass
            if rc != 0:
                module.fail_json(msg=reason(err, 'k3s-hostprep apply exited %d' % rc), **result)
        else:
            # plan exits 1 when apply would change something or is blocked; blocked is a failure.
            blocked = [f for c in report.get('controls', []) for f in c.get('findings', [])
                       if f.get('status') in ('fail', 'error') and f.get('reason') != 'apply would change this']
            if rc in (2, 3) or blocked:
                first = blocked[0] if blocked else None
                msg = 'k3s-hostprep: plan: BLOCKED: %s' % first['reason'] if first else reason(err, 'k3s-hostprep plan exited %d' % rc)
                module.fail_json(msg=msg, **result)
        result['msg'] = '%s: %d change(s)%s' % ('plan' if check else 'apply', changes, '' if check else (', compliant' if result['compliant'] else ''))
        if not result['diff']:
            del result['diff']
        module.exit_json(**result)
    finally:
        if config_tmp is not None and os.path.exists(config_tmp):
            os.unlink(config_tmp)
        if work is not None:
            import shutil
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
