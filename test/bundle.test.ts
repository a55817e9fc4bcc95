/**
 * The shape of the built command that keeps the boot path cheap: which libraries a run loads.
 * A preload hook records every require() of the bundle's lazily loaded libraries (dist/lib) and
 * of child_process, the only way to start a process.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, COMPLIANT, REPO, Sandbox, isRoot } from './helpers/sandbox.js';

const it = isRoot() ? test : test.skip;

function hook(s: Sandbox): string {
  const file = s.path('hook.cjs');
  fs.writeFileSync(
    file,
    `const Module = require('node:module');
const fs = require('node:fs');
const read = fs.readFileSync;
// dist/cli.js loads dist/lib/*.cjs by reading them (to compile them with their code cache).
fs.readFileSync = function (file) {
  if (typeof file === 'string' && /\\/lib\\/[a-z]+\\.cjs$/.test(file)) process.stderr.write('LOADED ' + file + '\\n');
  return read.apply(this, arguments);
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (/\\/lib\\/[a-z]+\\.cjs$|^(node:)?child_process$/.test(request)) process.stderr.write('LOADED ' + request + '\\n');
  return load.apply(this, arguments);
};
`,
  );
  return file;
}

/** What was loaded, first time each: "yaml" for dist/lib/yaml.cjs, "child_process". */
const loaded = (stderr: string) => [
  ...new Set([...stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]!.replace(/^.*\/lib\/([a-z]+)\.cjs$/, '$1').replace(/^node:/, ''))),
];

test('dist/main.cjs (the entry) and dist/command.cjs (the command) are CommonJS files, the libraries needed only sometimes are apart, and V8 takes the code caches', async (t) => {
  t.is(JSON.parse(fs.readFileSync(path.join(REPO, 'dist/package.json'), 'utf8')).type, 'commonjs');
  for (const lib of ['yaml', 'execa', 'systeminformation', 'diff']) t.true(fs.existsSync(path.join(REPO, 'dist/lib', `${lib}.cjs`)), lib);
  t.true(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
  for (const file of ['dist/main.cjs', 'dist/command.cjs']) {
    const text = fs.readFileSync(path.join(REPO, file), 'utf8');
    t.notRegex(text, /^(import|export) /m, `${file}: no ES module syntax left`);
    t.notRegex(text, /\bimport\("\.\.?\//, `${file}: no dynamic import of a file: everything loads through the loader`);
    // Each benchmark's rows are a chunk of their own, and none is part of the command itself.
    t.notRegex(text, /Ensure that the API server pod specification file permissions/, `no benchmark rows in ${file}`);
  }
  // The entry replays a remembered run without the command: the command is not part of it.
  const entry = fs.readFileSync(path.join(REPO, 'dist/main.cjs'), 'utf8');
  t.notRegex(entry, /function renderText\b|kube-bench/, 'no report rendering or benchmark judging in dist/main.cjs');
  t.true(entry.length < fs.readFileSync(path.join(REPO, 'dist/command.cjs'), 'utf8').length / 4);
  for (const v of ['1.23', '1.24', '1.7', '1.8', '1.9'])
    t.regex(fs.readFileSync(path.join(REPO, `dist/lib/rows/k3s-cis-${v}.cjs`), 'utf8'), /^exports\.K3S_CIS_\w+ = JSON\.parse\(/m, v);
  const vm = await import('node:vm');
  const { Module } = await import('node:module');
  for (const file of ['dist/main.cjs', 'dist/command.cjs', 'dist/lib/yaml.cjs', 'dist/lib/rows/k3s-cis-1.9.cjs', 'dist/lib/rows/k3s-cis-1.23.cjs']) {
    const full = path.join(REPO, file);
    const cachedData = fs.readFileSync(`${full}.v8cache`);
    const script = new vm.Script(Module.wrap(fs.readFileSync(full, 'utf8').replace(/^#!.*/, '')), { filename: full, cachedData });
    t.false(script.cachedDataRejected, file);
  }
});

it('check and a no-op apply start no process and load no library (no configuration file)', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  const h = hook(s);
  t.is((await s.cli('apply')).exitCode, 0);
  const check = await s.exec([process.execPath, '-r', h, CLI, 'check']);
  t.is(check.exitCode, 0, check.stdout);
  // The generated YAML files are rendered without the yaml library, and our own config.yaml.d
  // drop-in, the only K3s configuration file here, is known without parsing it.
  t.deepEqual(loaded(check.stderr), []);
  // The version probe (k3s --version) starts nothing when no k3s binary is installed.
  t.notRegex(check.stdout, /k3s --version/);
  const apply = await s.exec([process.execPath, '-r', h, CLI, 'apply']);
  t.is(apply.exitCode, 0);
  // Nothing to change, so no run lock either: flock(1) and child_process are for an apply that writes.
  t.deepEqual(loaded(apply.stderr), []);
  // A K3s configuration file of the operator's is parsed: yaml comes with it.
  s.write('/etc/rancher/k3s/config.yaml', 'write-kubeconfig-mode: "0600"\n');
  const withK3sConfig = await s.exec([process.execPath, '-r', h, CLI, 'check']);
  t.is(withK3sConfig.exitCode, 0, withK3sConfig.stdout);
  t.deepEqual(loaded(withK3sConfig.stderr), ['yaml']);
  s.dispose();
});

it('yaml comes with a configuration file, execa with a kernel value to change, diff with plan; watch cycles start no process', async (t) => {
  const s = new Sandbox({ kernel: { ...COMPLIANT, 'vm.overcommit_memory': '0' } });
  const h = hook(s);
  s.write('/etc/k3s-hostprep/config.yaml', 'role: server\n');
  const apply = await s.exec([process.execPath, '-r', h, CLI, 'apply']);
  t.is(apply.exitCode, 0, apply.stdout);
  t.deepEqual(loaded(apply.stderr), ['yaml', 'child_process', 'execa']);
  const nothing = await s.exec([process.execPath, '-r', h, CLI, 'plan']);
  t.deepEqual(loaded(nothing.stderr), ['yaml'], 'no diff to show, no diff library');
  fs.rmSync(s.host('/var/lib/rancher/k3s/server/audit.yaml'));
  const plan = await s.exec([process.execPath, '-r', h, CLI, 'plan']);
  t.regex(plan.stdout, /\+\+\+ \/var\/lib\/rancher\/k3s\/server\/audit\.yaml/);
  t.deepEqual(loaded(plan.stderr), ['yaml', 'diff']);
  s.write('/etc/k3s-hostprep/config.yaml', 'role: server\nwatch:\n  interval: 1\n');
  const watch = s.start([process.execPath, '-r', h, CLI, 'watch']);
  await watch.waitFor(/first verification/);
  // Long enough for two more cycles at a 1 s interval on a loaded machine.
  await new Promise((r) => setTimeout(r, 3500));
  process.kill(watch.pid, 'SIGTERM');
  t.is((await watch.exited).exitCode, 0, watch.stderr);
  t.regex(watch.stderr, /watch stopped: cycles=[3-9]/);
  t.deepEqual(loaded(watch.stderr), ['yaml'], 'no execa, no child_process');
  s.dispose();
});

const EXE = path.join(REPO, 'release/k3s-hostprep');
const SEA_CONFIG = path.join(REPO, '.cache/build-sea/sea-config.json');
const K3S_VERSION_TEXT = 'k3s version v1.30.4+k3s1 (98262b5d)\ngo version go1.22.5\n';

/** The single executable, built from dist/ as it is unless it is newer than dist/main.cjs already (once for this file's tests). */
let built: Promise<string> | undefined;
const executable = () => (built ??= buildExecutable());
async function buildExecutable(): Promise<string> {
  const fresh = fs.existsSync(EXE) && fs.existsSync(SEA_CONFIG) && fs.statSync(EXE).mtimeMs > fs.statSync(path.join(REPO, 'dist/main.cjs')).mtimeMs;
  if (!fresh) {
    const { execa } = await import('execa');
    await execa(path.join(REPO, 'scripts/build-sea'), ['--from-dist'], { cwd: REPO, timeout: 600_000 });
  }
  return EXE;
}

/** What the loader loaded and whether V8 took each code cache, from K3S_HOSTPREP_TRACE_LOAD. */
const traced = (stderr: string) =>
  [...stderr.matchAll(/^LOADED (\S+) \((.*)\)$/gm)].map((m) => `${m[1]!.replace(/^.*?\/((?:lib\/(?:rows\/)?)?[^/]+)$/, '$1')}: ${m[2]}`);
/** The rows of the benchmark a run judges with, from their code cache: the only rows it loads. */
const ROWS_1_9 = 'lib/rows/k3s-cis-1.9.cjs: code cache taken';
/** The entry (which replays a remembered run) and the command, each from its code cache. */
const MAIN = 'main.cjs: code cache taken';
const COMMAND = 'command.cjs: code cache taken';

/** A host with K3s installed: a `k3s` on PATH that answers --version as K3s does. */
/** K3s installed: a k3s in /usr/local/sbin inside the namespace (helpers come from the system directories, never PATH). */
function withK3s(s: Sandbox): Record<string, string> {
  s.program('k3s', `#!/bin/sh\n[ "$1" = --version ] && printf '${K3S_VERSION_TEXT.replace(/\n/g, '\\n')}' && exit 0\nexit 1\n`);
  return { K3S_HOSTPREP_TRACE_LOAD: '1' };
}

it('the single executable is the same lazy bundle with the same code caches, as assets', async (t) => {
  t.timeout(600_000);
  const exe = await executable();
  const config = JSON.parse(fs.readFileSync(SEA_CONFIG, 'utf8'));
  t.true(config.useCodeCache);
  t.deepEqual(Object.keys(config.assets).sort(), [
    'command.cjs',
    'command.cjs.v8cache',
    'lib/diff.cjs',
    'lib/execa.cjs',
    'lib/execa.cjs.v8cache',
    ...['1.23', '1.24', '1.7', '1.8', '1.9'].flatMap((v) => [`lib/rows/k3s-cis-${v}.cjs`, `lib/rows/k3s-cis-${v}.cjs.v8cache`]),
    'lib/systeminformation.cjs',
    'lib/yaml.cjs',
    'lib/yaml.cjs.v8cache',
    'main.cjs',
    'main.cjs.v8cache',
  ]);
  for (const [name, file] of Object.entries(config.assets as Record<string, string>)) t.is(file, `dist/${name}`);

  const s = new Sandbox({ kernel: COMPLIANT });
  t.is((await s.exec([exe, 'apply'])).exitCode, 0);
  const trace = { K3S_HOSTPREP_TRACE_LOAD: '1' };
  for (const command of [[process.execPath, CLI], [exe]]) {
    s.forgetLastRuns();
    const check = await s.exec([...command, 'check'], trace);
    t.is(check.exitCode, 0, check.stdout);
    t.deepEqual(
      traced(check.stderr),
      [MAIN, COMMAND, ROWS_1_9],
      `${command.join(' ')}: nothing but the command and its benchmark's rows, from their code caches`,
    );
    // K3s v1.24: kube-bench judges with k3s-cis-1.24, and so does a run; no other benchmark's rows load.
    const other = await s.exec([...command, 'check', '--k3s-version', 'v1.24.17+k3s1'], trace);
    t.regex(other.stdout, /k3s-cis-1\.24/);
    t.deepEqual(
      traced(other.stderr).filter((l) => l.startsWith('lib/rows/')),
      ['lib/rows/k3s-cis-1.24.cjs: code cache taken'],
      `${command.join(' ')}: the rows of the benchmark for the line, and no other benchmark's`,
    );
    s.write('/etc/rancher/k3s/config.yaml', 'write-kubeconfig-mode: "0600"\n');
    const parsed = await s.exec([...command, 'check'], trace);
    t.deepEqual(
      traced(parsed.stderr),
      [MAIN, COMMAND, ROWS_1_9, 'lib/yaml.cjs: code cache taken'],
      `${command.join(' ')}: yaml when a K3s file must be parsed`,
    );
    fs.rmSync(s.host('/etc/rancher/k3s/config.yaml'));
  }
  // At a converged node's next boot the executable replays the run it kept (src/replay/last-run.ts)
  // and loads nothing but its entry.
  s.forgetLastRuns();
  await new Promise((r) => setTimeout(r, 1200));
  const kept = await s.exec([exe, 'check'], trace);
  const replayed = await s.exec([exe, 'check'], trace);
  t.is(replayed.exitCode, kept.exitCode);
  t.is(replayed.stdout, kept.stdout);
  t.deepEqual(traced(kept.stderr), [MAIN, COMMAND, ROWS_1_9]);
  t.deepEqual(traced(replayed.stderr), [MAIN], 'the executable replays without loading the command');
  s.dispose();
});

it('the single executable installs itself: install --root copies this very binary (what cloud-init and the boot test do)', async (t) => {
  t.timeout(600_000);
  const exe = await executable();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-sea-root-'));
  fs.chmodSync(root, 0o755);
  try {
    const { execa } = await import('execa');
    const install = await execa(exe, ['install', '--root', root], { reject: false });
    t.is(install.exitCode, 0, install.stderr);
    t.true(fs.readFileSync(path.join(root, 'usr/local/bin/k3s-hostprep')).equals(fs.readFileSync(exe)), 'the installed binary is the executable itself');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

it('with K3s installed, `k3s --version` is asked through execa once per binary; later runs recall it and start nothing (node and the executable)', async (t) => {
  t.timeout(600_000);
  const exe = await executable();
  const s = new Sandbox({ kernel: COMPLIANT });
  const env = withK3s(s);
  const memo = s.host('/var/lib/k3s-hostprep/k3s-version.json');
  t.is((await s.exec([exe, 'apply'], env)).exitCode, 0);
  const asked = [MAIN, COMMAND, 'lib/execa.cjs: code cache taken', ROWS_1_9];
  const recalled = [MAIN, COMMAND, ROWS_1_9];
  for (const command of [[process.execPath, CLI], [exe]]) {
    for (const verb of ['check', 'apply']) {
      fs.rmSync(memo, { force: true });
      for (const expected of [asked, recalled]) {
        s.forgetLastRuns();
        const r = await s.exec([...command, verb, '--json'], env);
        t.is(r.exitCode, 0, r.stderr);
        const k3s = JSON.parse(r.stdout).k3s;
        t.is(k3s.version, 'v1.30.4+k3s1', `${command.join(' ')} ${verb}`);
        t.regex(k3s.source, /k3s --version$/);
        t.deepEqual(traced(r.stderr), expected, `${command.join(' ')} ${verb}`);
      }
    }
  }
  const st = fs.lstatSync(memo);
  t.is(st.uid, 0);
  t.is(st.mode & 0o777, 0o600);
  // The memo is what a run believes: a forged one that only root could have written is taken...
  const forged = fs.readFileSync(memo, 'utf8').replace('v1.30.4+k3s1', 'v1.24.17+k3s1');
  const forge = () => {
    fs.rmSync(memo, { force: true });
    fs.rmSync(`${memo}.real`, { force: true });
    fs.writeFileSync(memo, forged, { mode: 0o600 });
    fs.chmodSync(memo, 0o600);
  };
  forge();
  s.forgetLastRuns();
  const believed = await s.exec([process.execPath, CLI, 'check', '--json'], env);
  t.is(JSON.parse(believed.stdout).k3s.version, 'v1.24.17+k3s1');
  // ...one another user could have written is not (the host's trusted read judges it): the binary is asked again.
  for (const [why, spoil] of [
    ['owned by another user', () => fs.chownSync(memo, 1000, 1000)],
    [
      'writable by a group other than root',
      () => {
        fs.chownSync(memo, 0, 1000);
        fs.chmodSync(memo, 0o620);
      },
    ],
    ['world-writable', () => fs.chmodSync(memo, 0o602)],
    [
      'a symlink to a file another user owns',
      () => {
        fs.renameSync(memo, `${memo}.real`);
        fs.chownSync(`${memo}.real`, 1000, 1000);
        fs.symlinkSync(`${memo}.real`, memo);
      },
    ],
    ['in a directory another user can write', () => fs.chmodSync(path.dirname(memo), 0o777)],
  ] as const) {
    forge();
    spoil();
    s.forgetLastRuns();
    const r = await s.exec([process.execPath, CLI, 'check', '--json'], env);
    t.is(JSON.parse(r.stdout).k3s.version, 'v1.30.4+k3s1', why);
    t.deepEqual(traced(r.stderr), asked, why);
    fs.chmodSync(path.dirname(memo), 0o700);
  }
  // Another binary (K3s upgraded in place): asked again.
  s.program(
    'k3s',
    `#!/bin/sh\n[ "$1" = --version ] && printf '${K3S_VERSION_TEXT.replace('v1.30.4+k3s1', 'v1.31.1+k3s1').replace(/\n/g, '\\n')}' && exit 0\nexit 1\n`,
  );
  const upgraded = await s.exec([process.execPath, CLI, 'check', '--json'], env);
  t.is(JSON.parse(upgraded.stdout).k3s.version, 'v1.31.1+k3s1');
  t.deepEqual(traced(upgraded.stderr), asked);
  s.dispose();
});
