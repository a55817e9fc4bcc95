/**
 * `validate`: the configuration check alone, for tools that validate a new file before it
 * replaces the old one (Ansible's validate:). It reads only the file and changes nothing.
 */
import test from 'ava';
import fs from 'fs-extra';
import { execa } from 'execa';
import * as path from 'node:path';
import tmp from 'tmp';
import { CLI, Sandbox, isRoot } from './helpers/sandbox.js';

async function validate(...args: string[]) {
  const r = await execa(process.execPath, [CLI, 'validate', ...args], { reject: false, stdin: 'ignore', stripFinalNewline: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function file(content: string): string {
  const dir = tmp.dirSync({ unsafeCleanup: true }).name;
  const p = path.join(dir, 'config.yaml');
  fs.writeFileSync(p, content);
  return p;
}

test('a valid file: exit 0 and one line naming it', async (t) => {
  const p = file('role: agent\nk3sVersion: v1.30.4+k3s1\nsysctl:\n  net.ipv4.ip_forward: 1\n');
  const r = await validate('--config', p);
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout, `k3s-hostprep: ${p}: valid\n`);
  t.is(r.stderr, '');
});

test('an invalid file: exit 2 with the file, the key and what was expected, as apply says it', async (t) => {
  const p = file('role: agent\naudit:\n  logMaxAge: 5\n');
  const r = await validate('--config', p);
  t.is(r.exitCode, 2);
  t.regex(r.stderr, new RegExp(`^k3s-hostprep: ${p}: audit\\.logMaxAge: expected an integer of at least 30`));
  t.is(r.stdout, '');
});

test('a K3s version that is too old is a configuration error too', async (t) => {
  const r = await validate('--config', file('k3sVersion: v1.19\n'));
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /k3sVersion: K3s v1\.19 is older than v1\.21/);
});

test('unknown keys get a did-you-mean; a missing file is an error, not a pass', async (t) => {
  const typo = await validate('--config', file('rol: agent\n'));
  t.is(typo.exitCode, 2);
  t.regex(typo.stderr, /rol/);
  const missing = await validate('--config', '/nonexistent/k3s-hostprep.yaml');
  t.is(missing.exitCode, 2);
  t.regex(missing.stderr, /\/nonexistent\/k3s-hostprep\.yaml: cannot read the configuration file/);
});

test('validate takes no apply options', async (t) => {
  const r = await validate('--force');
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /validate does not take --force/);
});

const it = isRoot() ? test : test.skip;

it('without --config it validates the installed file, and a missing one is exit 2', async (t) => {
  const s = new Sandbox();
  try {
    const none = await s.cli('validate');
    t.is(none.exitCode, 2);
    t.regex(none.stderr, /\/etc\/k3s-hostprep\/config\.yaml: cannot read the configuration file: no such file/);
    s.write('/etc/k3s-hostprep/config.yaml', 'role: server\n', 0o600);
    const ok = await s.cli('validate');
    t.is(ok.exitCode, 0, ok.stderr);
    t.deepEqual(s.list('var-lib'), []);
  } finally {
    s.dispose();
  }
});
