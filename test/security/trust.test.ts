/**
 * A root agent that cannot be turned against its host: every attack here is made by "another
 * user" (uid 65534, the owner of a directory, a file, an ACL entry, a PATH entry or a
 * kubeconfig), against the built command in a private mount namespace. Each one must be refused
 * with a message naming the path, or have no effect, and leave nothing written.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { execaSync } from 'execa';
import { CLI, COMPLIANT, HOSTILE, REPO, Sandbox, isRoot } from '../helpers/sandbox.js';
import { bootstrapScript, checkCloudInitInput } from '../../src/cloud-init.js';
import { parseConfig } from '../../src/config/load.js';
import { TestHost, context } from '../helpers/test-host.js';
import { run } from '../../src/engine.js';
import { renderManaged } from '../../src/controls/managed.js';
import { renderText } from '../../src/report/text.js';
import { failureLine } from '../../src/report/failure-line.js';

const it = isRoot() ? test : test.skip;
const NOBODY = 65534;
const CONFIG = '/etc/k3s-hostprep/config.yaml';
const SYSCTL_FILE = '/etc/sysctl.d/90-kubelet.conf';

/** Real POSIX ACLs (the acl package's setfacl). */
function setfacl(...args: string[]): void {
  execaSync('setfacl', args);
}

it('an ACL entry granting another user write on /etc/sysctl.d: apply refuses to write there and check is not COMPLIANT', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  const first = await s.cli('apply');
  t.is(first.exitCode, 0, first.stdout);
  // The mode stays 0755-looking to a mode-bits check once the mask is r-x; here the mask is rwx (0775), group root.
  setfacl('-m', `u:${NOBODY}:rwx`, s.host('/etc/sysctl.d'));
  t.is(fs.statSync(s.host('/etc/sysctl.d')).gid, 0);
  fs.writeFileSync(s.host('/etc/sysctl.d/95-evil.conf'), 'vm.overcommit_memory=0\n');
  fs.chownSync(s.host('/etc/sysctl.d/95-evil.conf'), NOBODY, NOBODY);
  const check = await s.cli('check');
  t.not(check.exitCode, 0, check.stdout);
  t.notRegex(check.stdout, /Verdict: COMPLIANT/);
  t.regex(check.stdout, /etc\/sysctl\.d has an ACL that grants write \(user:65534:rwx\)/);
  const apply = await s.cli('apply');
  t.not(apply.exitCode, 0);
  t.regex(apply.stdout + apply.stderr, /setfacl -b/);
  s.dispose();
});

it('an ACL on one sysctl.d file (the directory clean) makes that file untrusted: check is not COMPLIANT', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  t.is((await s.cli('apply')).exitCode, 0);
  s.write('/etc/sysctl.d/95-evil.conf', '# harmless today\n', 0o644);
  setfacl('-m', `u:${NOBODY}:rw`, s.host('/etc/sysctl.d/95-evil.conf'));
  const check = await s.cli('check');
  t.is(check.exitCode, 3, check.stdout);
  t.regex(check.stdout, /95-evil\.conf has an ACL that grants write/);
  s.dispose();
});

it('a configuration another user owns, or in a directory others can write, is refused (exit 2) and nothing is written', async (t) => {
  const cases: Array<{ name: string; setup: (s: Sandbox) => void; says: RegExp }> = [
    {
      name: 'config.yaml owned by another user',
      setup: (s) => fs.chownSync(s.write(CONFIG, 'sysctl:\n  kernel.core_pattern: "|/tmp/x %p"\n', 0o644), NOBODY, NOBODY),
      says: /config\.yaml is owned by uid 65534/,
    },
    {
      name: 'world-writable /etc/k3s-hostprep',
      setup: (s) => {
        s.write(CONFIG, 'role: server\n', 0o600);
        fs.chmodSync(path.dirname(s.host(CONFIG)), 0o777);
      },
      says: /k3s-hostprep is world-writable \(mode 0777\)/,
    },
    {
      name: 'config.yaml a symlink into a directory another user owns',
      setup: (s) => {
        const dir = s.path('user-dir');
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'config.yaml'), 'role: server\n');
        fs.chownSync(dir, NOBODY, NOBODY);
        fs.mkdirpSync(path.dirname(s.host(CONFIG)));
        fs.symlinkSync(path.join(dir, 'config.yaml'), s.host(CONFIG));
      },
      says: /user-dir is owned by uid 65534/,
    },
  ];
  for (const c of cases) {
    const s = new Sandbox({ kernel: HOSTILE });
    c.setup(s);
    const r = await s.cli('apply');
    t.is(r.exitCode, 2, `${c.name}: ${r.stderr}`);
    t.regex(r.stderr, c.says, c.name);
    t.regex(r.stderr, /chown root:root .*chmod go-w/, c.name);
    t.deepEqual(s.list('etc-sysctl.d'), [], `${c.name}: nothing written`);
    s.dispose();
  }
});

it('extra sysctl keys: a program the kernel would run, a typo, a bad value and a leading "-" are refused (exit 2) before anything is written', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['kernel.core_pattern: "|/tmp/x %p"', /kernel\.core_pattern is refused: a core pattern starting with "\|"/],
    ['kernel.modprobe: /tmp/x', /kernel\.modprobe is refused/],
    ['kernel.poweroff_cmd: /tmp/x', /kernel\.poweroff_cmd is refused/],
    ['net.ipv4.ip_forwrd: 1', /net\.ipv4\.ip_forwrd: no such kernel parameter on this host/],
    ['net.ipv4.ip_forward: "yes"', /net\.ipv4\.ip_forward: expected an integer \(the kernel holds "0"\), got "yes"/],
    ['"-vm.overcommit_memory": 0', /overcommit_memory.*expected a key that is a sysctl key/],
  ];
  for (const [entry, says] of cases) {
    const s = new Sandbox({ kernel: { ...HOSTILE, 'net.ipv4.ip_forward': '0' } });
    s.write(CONFIG, `sysctl:\n  ${entry}\n`, 0o600);
    const r = await s.cli('apply');
    t.is(r.exitCode, 2, `${entry}: ${r.stdout}${r.stderr}`);
    t.regex(r.stderr, says, entry);
    t.deepEqual(s.list('etc-sysctl.d'), [], `${entry}: nothing written`);
    t.is(s.kernel('vm.overcommit_memory'), '0');
    s.dispose();
  }
});

it('a FIFO, a link to /dev/zero or a huge file where a file is read: refused at once, naming it', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  t.is((await s.cli('apply')).exitCode, 0);
  execaSync('mkfifo', [s.host('/etc/sysctl.d/95-fifo.conf')]);
  fs.symlinkSync('/dev/zero', s.host('/etc/sysctl.d/96-zero.conf'));
  fs.mkdirpSync(s.host('/etc/rancher/k3s/config.yaml.d'));
  execaSync('mkfifo', [s.host('/etc/rancher/k3s/config.yaml.d/50-fifo.yaml')]);
  const start = Date.now();
  const check = await s.cli('check');
  const ms = Date.now() - start;
  t.log(`check with a FIFO and /dev/zero in sysctl.d and a FIFO in config.yaml.d answered in ${ms} ms`);
  t.not(check.exitCode, 0, check.stdout);
  t.notRegex(check.stdout, /Verdict: COMPLIANT/);
  t.regex(check.stdout, /50-fifo\.yaml is not a regular file \(a FIFO\)/);
  t.regex(check.stdout, /95-fifo\.conf is not a regular file \(a FIFO\)/);
  t.regex(check.stdout, /\/dev\/zero is not a regular file \(a character device\)/);
  t.true(ms < 20_000);
  // The configuration itself: a link to /dev/zero.
  fs.mkdirpSync(path.dirname(s.host(CONFIG)));
  fs.symlinkSync('/dev/zero', s.host(CONFIG));
  const zero = await s.cli('check');
  t.is(zero.exitCode, 2);
  t.regex(zero.stderr, /not a regular file/);
  s.dispose();
});

it('a hostile PATH: a sysctl first on PATH in a user-owned directory never runs', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const evil = s.path('evil-bin');
  fs.mkdirSync(evil, { mode: 0o777 });
  const marker = s.path('evil-ran');
  for (const name of ['sysctl', 'k3s', 'systemctl', 'flock']) {
    fs.writeFileSync(path.join(evil, name), `#!/bin/sh\ntouch ${marker}\nexit 0\n`, { mode: 0o755 });
    fs.chownSync(path.join(evil, name), NOBODY, NOBODY);
  }
  fs.chownSync(evil, NOBODY, NOBODY);
  s.setup.push(`export PATH=${evil}:$PATH`);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  t.false(fs.existsSync(marker), 'nothing from the user-owned PATH entry ran');
  t.is(s.kernel('vm.overcommit_memory'), '1', 'the system sysctl did the work');
  s.dispose();
});

it('metrics under a directory another user owns are refused (exit 3), whether written directly or through a link', async (t) => {
  const METRICS = '/var/lib/node_exporter/textfile_collector/k3s_hostprep.prom';
  const s = new Sandbox({ kernel: COMPLIANT });
  s.write(CONFIG, `metrics:\n  textfilePath: ${METRICS}\n`, 0o600);
  const collector = s.host(path.dirname(METRICS));
  fs.mkdirpSync(collector);
  fs.chownSync(collector, NOBODY, NOBODY);
  const direct = await s.cli('check');
  t.is(direct.exitCode, 3, direct.stdout + direct.stderr);
  t.regex(direct.stderr, /cannot write metrics .*textfile_collector is owned by uid 65534/);
  t.deepEqual(fs.readdirSync(collector), []);
  // The owner of that directory points the name at /etc/cron.d.
  const cron = s.host('/etc/cron.d');
  fs.mkdirpSync(cron);
  fs.symlinkSync('/etc/cron.d/k3s_hostprep', path.join(collector, 'k3s_hostprep.prom'));
  const redirected = await s.cli('check');
  t.is(redirected.exitCode, 3);
  t.deepEqual(fs.readdirSync(cron), [], 'nothing written into /etc/cron.d');
  // check changes nothing: creating the missing collector directory sets its mode through the descriptor only.
  s.dispose();
});

it('--root whose directory another user owns is refused before anything is read or written', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  const img = s.path('image');
  fs.mkdirpSync(path.join(img, 'etc'));
  fs.chownSync(img, NOBODY, NOBODY);
  const r = await s.cli('apply', '--root', img, '--k3s-version', 'v1.30');
  t.is(r.exitCode, 3);
  t.regex(r.stderr, /--root .* is not trusted: .*image is owned by uid 65534/);
  t.deepEqual(fs.readdirSync(path.join(img, 'etc')), []);
  s.dispose();
});

it('backups made in the same millisecond never overwrite each other', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/x.conf', 'one\n');
  const names = new Set<string>();
  for (let i = 0; i < 5; i++) {
    host.write('/etc/x.conf', `version ${i}\n`);
    names.add(host.backup('/etc/x.conf'));
  }
  t.is(names.size, 5);
  t.deepEqual(
    [...names].map((n) => fs.readFileSync(host.file(n), 'utf8')),
    [0, 1, 2, 3, 4].map((i) => `version ${i}\n`),
  );
});

it('a forged header (our mark, a digest matching its own body) does not make a file ours: no replace without --force, and a backup with it', async (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirpSync(host.file('/etc/sysctl.d'));
  // A host where k3s-hostprep keeps its record: only recorded content is ours.
  fs.mkdirpSync(host.file('/var/lib/k3s-hostprep'), { mode: 0o700 });
  host.write('/var/lib/k3s-hostprep/written.json', '{}\n', 0o600);
  const forged = renderManaged('vm.overcommit_memory=0\n');
  host.write(SYSCTL_FILE, forged, 0o600);
  const ROLE = { role: 'server' as const, source: 'test' };
  const apply = await run(context(host), { command: 'apply', roleChoice: ROLE, facts: false });
  t.is(apply.exitCode, 1);
  t.is(fs.readFileSync(host.file(SYSCTL_FILE), 'utf8'), forged, 'left alone');
  const forced = await run(context(host, { force: true }), { command: 'apply', roleChoice: ROLE, facts: false });
  t.is(forced.exitCode, 0);
  t.is(forced.backups.length, 1);
  t.is(fs.readFileSync(host.file(forced.backups[0]!), 'utf8'), forged);
  // Once written by k3s-hostprep, it is ours: an older rendering is updated without --force.
  const again = await run(context(host), { command: 'apply', roleChoice: ROLE, facts: false });
  t.is(again.exitCode, 0);
});

it('a node prepared before the record existed: files with an intact header are adopted once, with a backup, without --force', async (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirpSync(host.file('/etc/sysctl.d'));
  const earlier = renderManaged('# an earlier rendering\nvm.overcommit_memory=1\n');
  host.write(SYSCTL_FILE, earlier, 0o600);
  const ROLE = { role: 'server' as const, source: 'test' };
  const apply = await run(context(host), { command: 'apply', roleChoice: ROLE, facts: false });
  t.is(apply.exitCode, 0, 'the upgrade does not block the gate');
  t.not(fs.readFileSync(host.file(SYSCTL_FILE), 'utf8'), earlier, 'replaced with the current rendering');
  t.is(apply.backups.length, 1);
  t.is(fs.readFileSync(host.file(apply.backups[0]!), 'utf8'), earlier, 'nothing is lost');
  t.truthy(
    fs.existsSync(host.file('/var/lib/k3s-hostprep/written.json')),
    'the record now exists: from here on a header alone makes nothing ours (the forged-header case)',
  );
});

test('control characters from configuration are escaped in the text report and the journal line', (t) => {
  const report = {
    tool: 'k3s-hostprep',
    version: 'x',
    command: 'check',
    role: 'server',
    roleSource: 'test',
    config: '/etc/k3s-hostprep/config.yaml',
    root: '/',
    k3s: { version: 'v1.30', source: 'test' },
    benchmark: { name: 'k3s-cis-1.9', source: 'test' },
    compliant: false,
    exitCode: 1,
    hostErrors: [],
    backups: [],
    summary: { pass: 0, fail: 1, warn: 0, skip: 0, error: 0 },
    controls: [
      {
        id: 'c',
        cis: '1',
        title: 't',
        scored: true,
        status: 'fail',
        remediation: 'r',
        changes: [],
        findings: [{ item: 'ns\n<0>evil', status: 'fail', expected: 'a', actual: 'b\x1b[2J', reason: 'namespace "x\n<0>emerg" \u2028' }],
      },
    ],
  } as unknown as Parameters<typeof renderText>[0];
  const text = renderText(report);
  t.false(
    text.split('\n').some((l) => l.startsWith('<0>')),
    text,
  );
  t.false(text.includes('\x1b'));
  t.regex(text, /ns\\n<0>evil/);
  const line = failureLine(report, true);
  t.is(line.split('\n').length, 2, 'one line');
  t.regex(line, /^<3>/);
  t.false(line.includes('\u2028'));
});

it('install copies the bundle into root-owned /usr/local/lib/k3s-hostprep, refuses a checkout another user owns, and uninstall removes only what it wrote', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  for (const [dir, at] of [
    ['usr-local-bin', '/usr/local/bin'],
    ['usr-local-lib', '/usr/local/lib'],
  ] as const) {
    fs.mkdirpSync(s.path(dir));
    s.setup.push(`mount -n --bind ${s.path(dir)} ${at}`);
  }
  const checkout = s.path('checkout');
  fs.copySync(path.join(REPO, 'dist'), path.join(checkout, 'dist'));
  const chownTree = (uid: number) => execaSync('chown', ['-R', `${uid}:${uid}`, checkout]);
  chownTree(NOBODY);
  const refused = await s.exec([process.execPath, path.join(checkout, 'dist/cli.js'), 'install']);
  t.is(refused.exitCode, 3, refused.stdout + refused.stderr);
  t.regex(refused.stderr, /checkout.* is owned by uid 65534/);
  t.deepEqual(fs.readdirSync(s.path('usr-local-bin')), []);
  t.deepEqual(fs.readdirSync(s.path('usr-local-lib')), []);

  chownTree(0);
  const installed = await s.exec([process.execPath, path.join(checkout, 'dist/cli.js'), 'install']);
  t.is(installed.exitCode, 0, installed.stdout + installed.stderr);
  const launcher = fs.readFileSync(s.path('usr-local-bin/k3s-hostprep'), 'utf8');
  t.regex(launcher, /exec '[^']*node' '\/usr\/local\/lib\/k3s-hostprep\/cli\.js' "\$@"/);
  t.notRegex(launcher, /checkout/);
  const lib = s.path('usr-local-lib/k3s-hostprep');
  t.is(fs.statSync(lib).uid, 0);
  t.is(fs.statSync(lib).mode & 0o7777, 0o755);
  // The whole bundle, with its code caches: the entry, the command, the libraries and the benchmarks' rows.
  for (const file of ['main.cjs', 'main.cjs.v8cache', 'command.cjs', 'command.cjs.v8cache', 'lib/yaml.cjs', 'lib/rows/k3s-cis-1.9.cjs'])
    t.true(fs.existsSync(path.join(lib, file)), file);
  const checked = await s.exec(['/usr/local/bin/k3s-hostprep', 'check']);
  t.regex(checked.stdout, /^Verdict: /m, 'the installed copy judges the host (the rows load)');
  t.notRegex(checked.stderr, /unexpected failure|Cannot find module|ENOENT/);
  // What the checkout's owner does afterwards no longer matters: the installed copy runs.
  fs.appendFileSync(path.join(checkout, 'dist/cli.js'), `\nrequire('fs').writeFileSync(${JSON.stringify(s.path('owned'))}, 'x');\n`);
  const version = await s.exec(['/usr/local/bin/k3s-hostprep', '--version']);
  t.is(version.exitCode, 0, version.stderr);
  t.false(fs.existsSync(s.path('owned')));

  // A file put at the executable's path after install is not install's to remove.
  fs.writeFileSync(s.path('usr-local-bin/k3s-hostprep'), '#!/bin/sh\necho someone else\n', { mode: 0o755 });
  const removed = await s.exec(['/usr/bin/env', process.execPath, path.join(checkout, 'dist/cli.js'), 'uninstall']);
  t.is(removed.exitCode, 0, removed.stdout + removed.stderr);
  t.regex(removed.stdout, /k3s-hostprep \(not what k3s-hostprep install wrote: left alone\)/);
  t.is(fs.readFileSync(s.path('usr-local-bin/k3s-hostprep'), 'utf8'), '#!/bin/sh\necho someone else\n');
  t.false(fs.existsSync(lib), 'the bundle it copied is gone');
  s.dispose();
});

test('render cloud-init checks the K3s installer when given its SHA-256', (t) => {
  const sha = 'a'.repeat(64);
  const script = bootstrapScript({
    role: 'server',
    configText: null,
    agentUrl: 'https://example.com/a.tar.gz',
    agentSha256: 'b'.repeat(64),
    k3sInstallerSha256: sha,
  });
  const check = script.indexOf(`echo '${sha}  '"$work/install-k3s.sh" | sha256sum -c -`);
  t.true(check > 0, 'the check is in the script');
  t.true(check < script.indexOf('sh "$work/install-k3s.sh"'), 'checked before it runs');
  t.throws(() => checkCloudInitInput({ agentUrl: 'https://x/y', agentSha256: 'b'.repeat(64), k3sInstallerSha256: 'nothex' }), {
    message: /--k3s-installer-sha256/,
  });
});

test('YAML strings are judged after their escapes are decoded, and aliases by their expanded size', (t) => {
  t.throws(() => parseConfig('networkPolicy:\n  namespaces: ["a\\ud800b"]\n', 'c.yaml'), { message: /lone UTF-16 surrogate/ });
  t.throws(() => parseConfig('networkPolicy:\n  namespaces: ["a\\x01b"]\n', 'c.yaml'), { message: /control character U\+0001/ });
  // Few aliases, a large expansion: 20 levels of doubling.
  let doc = 'a0: &a0 ["' + 'x'.repeat(1000) + '"]\n';
  for (let i = 1; i <= 20; i++) doc += `a${i}: &a${i} [*a${i - 1}, *a${i - 1}]\n`;
  const start = Date.now();
  t.throws(() => parseConfig(doc, 'bomb.yaml'), { message: /(expands to more than|alias)/ });
  t.true(Date.now() - start < 5000);
});

it('watch with a FIFO in /etc/sysctl.d is not stuck in a read: it reports the FIFO and stops at once on SIGTERM', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  t.is((await s.cli('apply')).exitCode, 0);
  execaSync('mkfifo', [s.host('/etc/sysctl.d/95-fifo.conf')]);
  const w = s.start([process.execPath, CLI, 'watch']);
  await w.waitFor(/first verification: verdict=/);
  t.regex(w.stderr, /95-fifo\.conf is not a regular file \(a FIFO\)/);
  const start = Date.now();
  process.kill(w.pid, 'SIGTERM');
  const exited = await w.exited;
  t.log(`watch stopped ${Date.now() - start} ms after SIGTERM`);
  t.is(exited.exitCode, 0);
  t.true(Date.now() - start < 5000);
  s.dispose();
});
