/**
 * service-accounts (CIS 5.1.5). No Kubernetes API server is available to the test suite, so
 * this runs against a RECORDING STAND-IN for kubectl (a small script below): it keeps the
 * namespaces' default service accounts in a JSON file, answers /readyz only after a number of
 * calls, applies merge patches, and logs every command line it receives.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import tmp from 'tmp';
import { CLI, Sandbox } from '../helpers/sandbox.js';
import { backoff, chooseKubectl, secureServiceAccounts, sortAccounts, waitForApi } from '../../src/kube/service-accounts.js';
import type { ProcessResult } from '../../src/host/host.js';

const STANDIN = `#!${process.execPath}
const fs = require('fs');
const dir = __dirname;
const statePath = dir + '/state.json';
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
let args = process.argv.slice(2);
if (require('path').basename(process.argv[1]) === 'k3s') {
  if (args[0] !== 'kubectl') { console.error('k3s stand-in: expected "kubectl"'); process.exit(2); }
  args = args.slice(1);
}
const save = () => fs.writeFileSync(statePath, JSON.stringify(state));
// The kubeconfig is always named on the command line; what the environment says is recorded to show it is not passed on.
if (args[0] !== '--kubeconfig') { console.error('kubectl stand-in: expected --kubeconfig first'); process.exit(2); }
state.kubeconfig = args[1];
state.envKubeconfig = process.env.KUBECONFIG ?? null;
save();
args = args.slice(2);
fs.appendFileSync(dir + '/calls.log', JSON.stringify(args) + '\\n');
const key = args.join(' ');
if (key === 'get --raw /readyz') {
  state.readyzCalls = (state.readyzCalls || 0) + 1;
  save();
  if (state.readyAfter < 0 || state.readyzCalls <= state.readyAfter) {
    console.error('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');
    process.exit(1);
  }
  console.log('ok');
  process.exit(0);
}
if (key === 'get serviceaccounts --all-namespaces --field-selector metadata.name=default --output json') {
  const items = Object.entries(state.namespaces).map(([ns, v]) => ({
    apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns },
    ...(v === null ? {} : { automountServiceAccountToken: v }),
  }));
  console.log(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  process.exit(0);
}
if (args[0] === 'patch' && args[1] === 'serviceaccount' && args[2] === 'default' && args[3] === '--namespace' && args[5] === '--type' && args[6] === 'merge' && args[7] === '--patch') {
  const ns = args[4];
  if ((state.failPatch || []).includes(ns)) { console.error('Error from server (Forbidden): serviceaccounts "default" is forbidden'); process.exit(1); }
  if (!(ns in state.namespaces)) { console.error('Error from server (NotFound): namespaces "' + ns + '" not found'); process.exit(1); }
  Object.assign(state, { namespaces: { ...state.namespaces, [ns]: JSON.parse(args[8]).automountServiceAccountToken } });
  save();
  console.log('serviceaccount/default patched');
  process.exit(0);
}
console.error('kubectl stand-in: unexpected command: ' + key);
process.exit(2);
`;

interface StandIn {
  dir: string;
  sandbox: Sandbox;
  state(): { namespaces: Record<string, boolean | null>; readyzCalls?: number; kubeconfig?: string; envKubeconfig?: string | null };
  calls(): string[][];
  run(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; ms: number }>;
}

/**
 * The stand-in in /usr/local/sbin of a sandbox (k3s-hostprep takes k3s and kubectl from the
 * system directories only, whatever PATH says), with its state beside it.
 */
function standIn(name: 'kubectl' | 'k3s', state: object): StandIn {
  const s = new Sandbox();
  const file = s.program(name, STANDIN);
  const dir = path.dirname(file);
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
  fs.writeFileSync(path.join(dir, 'calls.log'), '');
  return {
    dir,
    sandbox: s,
    state: () => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')),
    calls: () =>
      fs
        .readFileSync(path.join(dir, 'calls.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    async run(...args: string[]) {
      const start = Date.now();
      const r = await s.exec([process.execPath, CLI, 'service-accounts', ...args]);
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
    },
  };
}

test('waits for the API, patches every default service account that mounts tokens, and reports it', async (t) => {
  const k = standIn('kubectl', { readyAfter: 2, namespaces: { default: null, 'kube-system': true, apps: false } });
  const r = await k.run();
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /through .*\/kubectl\n/);
  t.regex(r.stdout, /API ready after [\d.]+ s \(3 attempt\(s\)\)/);
  t.regex(r.stdout, /Changed \(automountServiceAccountToken: false on default\): default, kube-system\n/);
  t.regex(r.stdout, /Already set: apps\n/);
  t.deepEqual(k.state().namespaces, { default: false, 'kube-system': false, apps: false });
  const patches = k.calls().filter((c) => c[0] === 'patch');
  t.deepEqual(patches, [
    ['patch', 'serviceaccount', 'default', '--namespace', 'default', '--type', 'merge', '--patch', '{"automountServiceAccountToken":false}'],
    ['patch', 'serviceaccount', 'default', '--namespace', 'kube-system', '--type', 'merge', '--patch', '{"automountServiceAccountToken":false}'],
  ]);
  const again = await k.run('--json');
  t.is(again.exitCode, 0);
  const report = JSON.parse(again.stdout);
  t.deepEqual(report.changed, []);
  t.deepEqual(report.unchanged, ['apps', 'default', 'kube-system']);
  t.is(k.calls().filter((c) => c[0] === 'patch').length, 2, 'a second run patched again');
});

test('an API that never answers fails clearly within the bounded wait', async (t) => {
  const k = standIn('kubectl', { readyAfter: -1, namespaces: { default: null } });
  const r = await k.run('--timeout', '2');
  t.is(r.exitCode, 3);
  t.regex(
    r.stderr,
    /^k3s-hostprep: service-accounts: the Kubernetes API did not answer within 2 s \(\d+ attempts\); last error: The connection to the server 127\.0\.0\.1:6443 was refused/,
  );
  t.is(r.stderr.trim().split('\n').length, 1);
  t.true(r.ms < 15_000, `took ${r.ms} ms`);
  t.true(k.state().readyzCalls! >= 2);
  t.false(k.calls().some((c) => c[0] === 'patch'));
  t.is(k.state().namespaces.default, null);
});

test('k3s kubectl is preferred when the k3s binary is installed', async (t) => {
  const k = standIn('k3s', { readyAfter: 0, namespaces: { default: null } });
  const r = await k.run();
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /through .*\/k3s kubectl\n/);
  t.true(k.calls().length >= 3, 'the k3s stand-in refuses anything but "k3s kubectl --kubeconfig FILE ..."');
  t.is(k.state().kubeconfig, '/etc/rancher/k3s/k3s.yaml');
  t.is(k.state().namespaces.default, false);
});

test('no kubectl at all is a host error naming what is missing', async (t) => {
  // Whatever PATH holds: only the system directories count.
  const s = new Sandbox();
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin'])
    for (const name of ['k3s', 'kubectl']) if (fs.existsSync(path.join(dir, name))) s.hide(path.join(dir, name));
  const dir = tmp.dirSync({ unsafeCleanup: true }).name;
  fs.writeFileSync(path.join(dir, 'kubectl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  s.setup.push(`export PATH=${dir}:$PATH`);
  const r = await s.exec([process.execPath, CLI, 'service-accounts']);
  s.dispose();
  t.is(r.exitCode, 3);
  t.regex(String(r.stderr), /neither k3s nor kubectl was found as a root-owned executable in the system directories/);
});

test("a hostile PATH and KUBECONFIG play no part: the system k3s runs, with K3s' own kubeconfig named", async (t) => {
  const k = standIn('k3s', { readyAfter: 0, namespaces: { default: null } });
  // A user-owned directory first on PATH with its own k3s and kubectl, and a user-owned kubeconfig.
  const evil = k.sandbox.path('evil');
  fs.mkdirSync(evil, { mode: 0o777 });
  fs.chownSync(evil, 65534, 65534);
  const marker = k.sandbox.path('evil-ran');
  for (const n of ['k3s', 'kubectl']) {
    fs.writeFileSync(path.join(evil, n), `#!/bin/sh\ntouch ${marker}\nexit 0\n`, { mode: 0o755 });
    fs.chownSync(path.join(evil, n), 65534, 65534);
  }
  const kubeconfig = path.join(evil, 'config');
  fs.writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${path.join(evil, 'k3s')}\n`,
  );
  fs.chownSync(kubeconfig, 65534, 65534);
  k.sandbox.setup.push(`export PATH=${evil}:$PATH KUBECONFIG=${kubeconfig}`);
  const r = await k.run();
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.false(fs.existsSync(marker), 'nothing from the user-owned directory ran');
  t.is(k.state().kubeconfig, '/etc/rancher/k3s/k3s.yaml');
  t.is(k.state().envKubeconfig, null, 'KUBECONFIG is not passed on');
  // --kubeconfig naming that user-owned file is refused before anything runs.
  const refused = await k.run('--kubeconfig', kubeconfig);
  t.is(refused.exitCode, 3);
  t.regex(refused.stderr, /the kubeconfig is not trusted: .*evil.* is (owned by uid 65534|world-writable)/);
  t.false(fs.existsSync(marker));
  k.sandbox.dispose();
});

test('a patch that fails is reported with its namespace, and the others still run', async (t) => {
  const k = standIn('kubectl', { readyAfter: 0, failPatch: ['b'], namespaces: { a: null, b: null, c: true } });
  const r = await k.run();
  t.is(r.exitCode, 3);
  t.regex(r.stdout, /Error: namespace b: patch failed: Error from server \(Forbidden\)/);
  t.deepEqual(k.state().namespaces, { a: false, b: null, c: false });
});

test('backoff grows to ten seconds and waitForApi stops at its deadline', async (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6].map(backoff), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  let clock = 0;
  const calls: string[][] = [];
  const never = async (args: string[]): Promise<ProcessResult> => {
    calls.push(args);
    return { command: 'kubectl', exitCode: 1, stdout: '', stderr: 'connection refused\n' };
  };
  const result = await waitForApi(never, {
    timeoutMs: 20_000,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  t.false(result.ready);
  t.is(result.last, 'connection refused');
  t.is(clock, 20_000);
  t.is(calls.length, 6); // at 0, 1, 3, 7, 15 and 20 s
});

test('sortAccounts looks at default accounts only and rejects what is not a list', (t) => {
  t.deepEqual(
    sortAccounts({
      items: [
        { metadata: { name: 'default', namespace: 'b' } },
        { metadata: { name: 'builder', namespace: 'a' } },
        { metadata: { name: 'default', namespace: 'a' }, automountServiceAccountToken: false },
      ],
    }),
    { todo: ['b'], done: ['a'] },
  );
  t.throws(() => sortAccounts({ kind: 'Status' }), { message: /expected a List/ });
});

test('a list kubectl cannot give is an error, and nothing is patched', async (t) => {
  const calls: string[][] = [];
  const kubectl = async (args: string[]): Promise<ProcessResult> => {
    calls.push(args);
    if (args[0] === 'get' && args[1] === '--raw') return { command: '', exitCode: 0, stdout: 'ok', stderr: '' };
    return { command: '', exitCode: 0, stdout: 'not json', stderr: '' };
  };
  const report = await secureServiceAccounts(kubectl, 'kubectl', { timeoutMs: 1000 });
  t.is(report.exitCode, 3);
  t.regex(report.errors[0]!, /kubectl returned no service account list/);
  t.is(calls.length, 2);
});

test('chooseKubectl: k3s wins over kubectl', (t) => {
  const files = new Map([
    ['kubectl', '/usr/bin/kubectl'],
    ['k3s', '/usr/local/bin/k3s'],
  ]);
  t.deepEqual(
    chooseKubectl((n) => files.get(n) ?? null),
    ['/usr/local/bin/k3s', 'kubectl'],
  );
  files.delete('k3s');
  t.deepEqual(
    chooseKubectl((n) => files.get(n) ?? null),
    ['/usr/bin/kubectl'],
  );
  t.is(
    chooseKubectl(() => null),
    null,
  );
});
