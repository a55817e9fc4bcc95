/**
 * The Ansible role's static checks: the playbook parses, the module's documentation is valid for
 * ansible-doc, and the role's files hold together (the fleet test runs it for real).
 */
import test from 'ava';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import tmp from 'tmp';
import { REPO } from './helpers/sandbox.js';

const ROLE = path.join(REPO, 'ansible/roles/k3s_hostprep');
const it = fs.existsSync('/usr/bin/ansible-playbook') ? test : test.skip;

function env() {
  const home = tmp.dirSync({ unsafeCleanup: true }).name;
  return {
    ...process.env,
    ANSIBLE_HOME: home,
    ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'),
    ANSIBLE_ROLES_PATH: path.join(REPO, 'ansible/roles'),
    ANSIBLE_NOCOLOR: '1',
  };
}

it('the fleet playbook passes ansible-playbook --syntax-check', async (t) => {
  const r = await execa('ansible-playbook', ['--syntax-check', '-i', 'localhost,', path.join(REPO, 'ansible/playbooks/fleet.yml')], {
    env: env(),
    reject: false,
    all: true,
  });
  t.is(r.exitCode, 0, String(r.all));
});

it('ansible-doc reads the module documentation, with every option the module takes', async (t) => {
  const r = await execa('ansible-doc', ['-t', 'module', '-M', path.join(ROLE, 'library'), '--json', 'k3s_hostprep'], { env: env(), reject: false, all: true });
  t.is(r.exitCode, 0, String(r.all));
  const doc = JSON.parse(String(r.stdout)).k3s_hostprep.doc;
  const source = fs.readFileSync(path.join(ROLE, 'library/k3s_hostprep.py'), 'utf8');
  const spec = source.slice(source.indexOf('argument_spec=dict('), source.indexOf('supports_check_mode'));
  const options = [...spec.matchAll(/^\s+(\w+)=dict\(/gm)].map((m) => m[1]).sort();
  t.deepEqual(Object.keys(doc.options).sort(), options);
});

it('every role variable the task uses has a default, and the README lists it', (t) => {
  const defaults = fs.readFileSync(path.join(ROLE, 'defaults/main.yml'), 'utf8');
  const tasks = fs.readFileSync(path.join(ROLE, 'tasks/main.yml'), 'utf8');
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const used = new Set(
    [...tasks.matchAll(/\b(k3s_hostprep_\w+)/g)].map((m) => m[1]!).filter((v) => !['k3s_hostprep_role', 'k3s_hostprep_config_text'].includes(v)),
  );
  t.true(used.size >= 8);
  for (const v of used) {
    t.regex(defaults, new RegExp(`^${v}:`, 'm'), `${v} has a default`);
    t.true(readme.includes(`\`${v}\``), `${v} is in the README`);
  }
});
