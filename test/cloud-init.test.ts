/**
 * render cloud-init: validated with Debian's `cloud-init schema`, whose output must be clean;
 * and its bootstrap script run for real in a private mount namespace, with stand-ins for curl,
 * the release's executable and the K3s installer, to show that K3s is installed only after
 * apply succeeded.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { execa } from 'execa';
import tmp from 'tmp';
import { parse } from 'yaml';
import { CLI, Sandbox, isRoot } from './helpers/sandbox.js';
import { BOOTSTRAP_PATH, bootstrapScript, renderCloudInit } from '../src/cloud-init.js';

const asRoot = isRoot() ? test : test.skip;
const SHA = 'a'.repeat(64);
const URL = 'https://releases.example.com/k3s-hostprep-0.1.0-linux-x64.tar.gz';

async function render(...args: string[]) {
  const r = await execa(process.execPath, [CLI, 'render', 'cloud-init', ...args], { reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout) + '\n', stderr: String(r.stderr) };
}

async function schema(text: string) {
  const file = path.join(tmp.dirSync({ unsafeCleanup: true }).name, 'user-data');
  fs.writeFileSync(file, text);
  const r = await execa('cloud-init', ['schema', '--config-file', file], { reject: false });
  return { file, exitCode: r.exitCode ?? -1, output: String(r.stdout) + String(r.stderr) };
}

test('the #cloud-config passes cloud-init schema with nothing else to say', async (t) => {
  for (const args of [
    ['--role', 'server'],
    ['--role', 'agent', '--k3s-version', 'v1.30.4+k3s1'],
  ]) {
    const r = await render('--agent-url', URL, '--agent-sha256', SHA, ...args);
    t.is(r.exitCode, 0, r.stderr);
    t.true(r.stdout.startsWith('#cloud-config\n'));
    const checked = await schema(r.stdout);
    t.is(checked.exitCode, 0, checked.output);
    t.is(checked.output, `Valid cloud-config: ${checked.file}`);
  }
});

test('cloud-init schema rejects a broken document (the check can fail)', async (t) => {
  const text = renderCloudInit({ role: 'server', configText: null, agentUrl: URL, agentSha256: SHA }).replace('runcmd:', 'runcmd: 5\nx_runcmd:');
  const checked = await schema(text);
  t.not(checked.exitCode, 0);
  t.regex(checked.output, /runcmd: 5 is not of type 'array'/);
});

test('it writes the config and the bootstrap script, and runs only the script', (t) => {
  const doc = parse(renderCloudInit({ role: 'agent', configText: 'role: agent\naudit: {}\n', agentUrl: URL, agentSha256: SHA }));
  t.deepEqual(
    doc.write_files.map((f: { path: string; permissions: string }) => [f.path, f.permissions]),
    [
      ['/etc/k3s-hostprep/config.yaml', '0600'],
      [BOOTSTRAP_PATH, '0700'],
    ],
  );
  t.is(doc.write_files[0].content, 'role: agent\naudit: {}\n');
  t.deepEqual(doc.runcmd, [[BOOTSTRAP_PATH]]);
  const script: string = doc.write_files[1].content;
  const order = ['sha256sum -c', '" install', '/usr/local/bin/k3s-hostprep apply', "INSTALL_K3S_EXEC='agent'"].map((s) => script.indexOf(s));
  t.false(order.includes(-1), script);
  t.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    'steps out of order',
  );
});

test('it uses the config file given with --config', async (t) => {
  const dir = tmp.dirSync({ unsafeCleanup: true }).name;
  fs.writeFileSync(path.join(dir, 'config.yaml'), 'role: agent\n');
  const r = await render('--config', path.join(dir, 'config.yaml'), '--agent-url', URL, '--agent-sha256', SHA);
  t.is(r.exitCode, 0, r.stderr);
  const doc = parse(r.stdout);
  t.is(doc.write_files[0].content, 'role: agent\n');
  t.regex(doc.write_files[1].content, /INSTALL_K3S_EXEC='agent'/);
});

test("the first apply prepares for the release the installer installs: the node's config names it", async (t) => {
  const pinned = await render('--role', 'server', '--k3s-version', 'v1.24.17+k3s1', '--agent-url', URL, '--agent-sha256', SHA);
  t.is(pinned.exitCode, 0, pinned.stderr);
  const doc = parse(pinned.stdout);
  t.deepEqual(parse(doc.write_files[0].content), { role: 'server', k3sVersion: 'v1.24.17+k3s1' });
  t.regex(doc.write_files[1].content, /INSTALL_K3S_VERSION='v1\.24\.17\+k3s1'/);
  // The operator's file is kept, comments too; the flag's release replaces another version.
  const dir = tmp.dirSync({ unsafeCleanup: true }).name;
  fs.writeFileSync(path.join(dir, 'config.yaml'), '# our fleet\nrole: agent\nk3sVersion: v1.28\n');
  const withFile = await render('--config', path.join(dir, 'config.yaml'), '--k3s-version', 'v1.24.17+k3s1', '--agent-url', URL, '--agent-sha256', SHA);
  t.is(withFile.exitCode, 0, withFile.stderr);
  const content = parse(withFile.stdout).write_files[0].content;
  t.true(content.startsWith('# our fleet\n'), content);
  t.like(parse(content), { role: 'agent', k3sVersion: 'v1.24.17+k3s1' });
  // What that first apply prepares for, read from the config the node gets.
  const written = path.join(dir, 'node.yaml');
  fs.writeFileSync(written, doc.write_files[0].content);
  const rendered = await execa(process.execPath, [CLI, 'render', 'policy', '--config', written], { reject: false });
  t.is(rendered.exitCode, 0, String(rendered.stderr));
  t.regex(String(rendered.stdout), /kind: PodSecurityPolicy/, 'v1.24 gets PodSecurityPolicies');
  // Without a pinned release the config is left as it is.
  t.is(parse((await render('--role', 'server', '--agent-url', URL, '--agent-sha256', SHA)).stdout).write_files[0].content, 'role: server\n');
});

test('missing or malformed release details are usage errors', async (t) => {
  const missing = await render();
  t.is(missing.exitCode, 2);
  t.regex(missing.stderr, /render cloud-init needs --agent-url URL and --agent-sha256 HEX/);
  const badSha = await render('--agent-url', URL, '--agent-sha256', 'abc');
  t.is(badSha.exitCode, 2);
  t.regex(badSha.stderr, /--agent-sha256: expected 64 lowercase hexadecimal digits, got "abc"/);
  const badUrl = await render('--agent-url', "https://x/'; rm -rf /", '--agent-sha256', SHA);
  t.is(badUrl.exitCode, 2);
  const wrongArtefact = await execa(process.execPath, [CLI, 'render', 'sysctl', '--agent-url', URL], { reject: false });
  t.is(wrongArtefact.exitCode, 2);
  t.regex(String(wrongArtefact.stderr), /for render cloud-init only/);
});

/**
 * Runs the bootstrap script in the sandbox: curl copies local files (the release tarball, a K3s
 * installer stand-in that records that it ran), the release's "k3s-hostprep" records its calls
 * and its apply exits with APPLY_EXIT.
 */
async function bootstrap(applyExit: number) {
  const s = new Sandbox();
  const bin = s.path('bin');
  const usrLocalBin = s.path('usr-local-bin');
  const events = s.path('events.log');
  fs.mkdirpSync(bin);
  fs.mkdirpSync(usrLocalBin);
  fs.writeFileSync(events, '');
  // The release tarball, with an agent stand-in.
  const release = s.path('release', 'k3s-hostprep-0.1.0');
  fs.mkdirpSync(release);
  fs.writeFileSync(
    path.join(release, 'k3s-hostprep'),
    `#!/bin/sh\necho "agent $*" >> ${events}\ncase "$1" in install) cp "$0" /usr/local/bin/k3s-hostprep;; apply) exit ${applyExit};; esac\n`,
    { mode: 0o755 },
  );
  const tarball = s.path('release.tar.gz');
  await execa('tar', ['-czf', tarball, '-C', s.path('release'), 'k3s-hostprep-0.1.0']);
  const sha = (await execa('sha256sum', [tarball])).stdout.split(' ')[0]!;
  const installer = s.path('install-k3s.sh');
  fs.writeFileSync(installer, `echo "k3s installer INSTALL_K3S_EXEC=$INSTALL_K3S_EXEC" >> ${events}\n`);
  fs.writeFileSync(
    path.join(bin, 'curl'),
    `#!/bin/sh\nout=; url=\nwhile [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift 2;; -*) shift;; *) url=$1; shift;; esac; done\necho "curl $url" >> ${events}\ncase "$url" in ${URL}) cp ${tarball} "$out";; https://get.k3s.io) cp ${installer} "$out";; *) exit 22;; esac\n`,
    { mode: 0o755 },
  );
  const script = s.path('bootstrap.sh');
  fs.writeFileSync(script, bootstrapScript({ role: 'server', configText: null, agentUrl: URL, agentSha256: sha }), { mode: 0o700 });
  s.setup.push(`mount -n --bind ${usrLocalBin} /usr/local/bin`, `export PATH=${bin}:$PATH`);
  const result = await s.exec(['/bin/sh', script]);
  const log = fs.readFileSync(events, 'utf8');
  s.dispose();
  return { result, log };
}

asRoot('the bootstrap script installs the agent, runs apply, and only then the K3s installer', async (t) => {
  const { result, log } = await bootstrap(0);
  t.is(result.exitCode, 0, result.stdout + result.stderr);
  t.is(log, `curl ${URL}\nagent install\nagent apply\ncurl https://get.k3s.io\nk3s installer INSTALL_K3S_EXEC=server\n`);
});

asRoot('when apply fails, the bootstrap script stops and K3s is not installed', async (t) => {
  const { result, log } = await bootstrap(1);
  t.not(result.exitCode, 0);
  t.is(log, `curl ${URL}\nagent install\nagent apply\n`);
});
