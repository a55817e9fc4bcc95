/**
 * The role's module on its own, run by python inside the sandbox (private /var/lib, /etc, /run):
 * a release tarball is unpacked only when it holds plain files and directories, and check mode
 * leaves nothing behind.
 */
import test from 'ava';
import { execa, execaSync } from 'execa';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, Sandbox, isRoot } from './helpers/sandbox.js';

const MODULE = path.join(REPO, 'ansible/roles/k3s_hostprep/library/k3s_hostprep.py');
const PYTHON = '/usr/bin/python3';
const haveAnsible = isRoot() && fs.existsSync(PYTHON) && execaSync(PYTHON, ['-c', 'import ansible.module_utils.basic'], { reject: false }).exitCode === 0;
const it = haveAnsible ? test : test.skip;
const TOP = 'k3s-hostprep-0.1.0-linux-x64';

/** A tarball made by python's tarfile, with the members described (name, type, content or link target). */
async function tarball(
  dir: string,
  members: Array<{ name: string; type: 'file' | 'dir' | 'symlink'; data?: string; mode?: number }>,
): Promise<{ file: string; sha256: string }> {
  const file = path.join(dir, 'release.tar.gz');
  const script = `
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz') as tar:
    for m in json.loads(sys.argv[2]):
        info = tarfile.TarInfo(m['name'])
        info.mode = m.get('mode', 0o755)
        if m['type'] == 'dir':
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        elif m['type'] == 'symlink':
            info.type = tarfile.SYMTYPE
            info.linkname = m['data']
            tar.addfile(info)
        else:
            data = m['data'].encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
`;
  await execa(PYTHON, ['-c', script, file, JSON.stringify(members)]);
  return { file, sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
}

async function runModule(s: Sandbox, args: Record<string, unknown>) {
  const argsFile = s.path('args.json');
  fs.writeFileSync(argsFile, JSON.stringify({ ANSIBLE_MODULE_ARGS: { _ansible_check_mode: true, _ansible_diff: true, ...args } }));
  const r = await s.exec([PYTHON, MODULE, argsFile]);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const launcher = `#!/bin/sh\nexec ${process.execPath} ${path.join(REPO, 'dist/cli.js')} "$@"\n`;

it('a tarball with a symlink or a path outside its directory is refused before anything runs', async (t) => {
  for (const bad of [
    { name: `${TOP}/evil`, type: 'symlink' as const, data: '/etc/shadow' },
    { name: `${TOP}/../../../etc/sysctl.d/99-evil.conf`, type: 'file' as const, data: 'vm.overcommit_memory=2\n' },
    { name: '/etc/sysctl.d/99-evil.conf', type: 'file' as const, data: 'vm.overcommit_memory=2\n' },
  ]) {
    const s = new Sandbox();
    try {
      const { file, sha256 } = await tarball(s.dir, [{ name: TOP, type: 'dir' }, { name: `${TOP}/k3s-hostprep`, type: 'file', data: launcher }, bad]);
      const result = await runModule(s, { release_sha256: sha256, release_src: file, config: 'role: agent\n' });
      t.true(result.failed, bad.name);
      t.regex(result.msg, /release tarball: refusing member/, bad.name);
      t.deepEqual(s.list('var-lib'), [], 'the scratch directory is gone');
      t.deepEqual(s.list('etc-sysctl.d'), [], 'nothing unpacked outside it');
      t.deepEqual(s.list('etc-upper'), []);
    } finally {
      s.dispose();
    }
  }
});

it('a good tarball in check mode: validate and plan from the unpacked release, nothing left behind', async (t) => {
  const s = new Sandbox();
  try {
    const { file, sha256 } = await tarball(s.dir, [
      { name: TOP, type: 'dir' },
      { name: `${TOP}/k3s-hostprep`, type: 'file', data: launcher },
    ]);
    const result = await runModule(s, { release_sha256: sha256, release_src: file, config: 'role: agent\n' });
    t.falsy(result.failed, result.msg);
    t.true(result.changed);
    t.is(result.report.command, 'plan');
    t.true(result.report.summary.changes > 0);
    t.true(result.diff.some((d: { after_header?: string }) => d.after_header === '/etc/sysctl.d/90-kubelet.conf'));
    t.true(
      result.diff.some(
        (d: { after_header?: string; after?: string }) => d.after_header === '/etc/k3s-hostprep/config.yaml' && /role: agent/.test(d.after ?? ''),
      ),
    );
    t.deepEqual(s.list('var-lib'), []);
    t.deepEqual(s.list('etc-upper'), []);
    t.deepEqual(s.list('etc-sysctl.d'), []);
    t.is(s.kernel('vm.overcommit_memory'), '0');
    // The same tarball with another checksum: refused, nothing unpacked.
    const wrong = await runModule(s, { release_sha256: '0'.repeat(64), release_src: file, config: 'role: agent\n' });
    t.true(wrong.failed);
    t.regex(wrong.msg, new RegExp(`has SHA-256 ${sha256}, expected 0{64}: nothing installed`));
    t.deepEqual(s.list('var-lib'), []);
  } finally {
    s.dispose();
  }
});
