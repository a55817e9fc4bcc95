/**
 * What a watch cycle keeps to avoid reading the same thing twice (the run's answers, RunReads),
 * and that none of it outlives the moment it is sound for: a directory found missing (the
 * synchronous stretch of a run, or this host's next write), a run's answers (the run, or its next
 * write), a row's verdict (the same audit output only). A file changed between two cycles of the
 * same process is always seen.
 */
import test from 'ava';
import * as fs from 'node:fs';
import { CONTROLS } from '../../src/controls/index.js';
import { run } from '../../src/engine.js';
import { runReads } from '../../src/host/run-reads.js';
import { WatchCycle } from '../../src/watch/cycle.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

const ROLE = { role: 'server' as const, source: 'test' };
const ROOT_FILE = { mode: 0o600, uid: 0, gid: 0 };
const isRoot = process.geteuid?.() === 0;
const it = isRoot ? test : test.skip;

/** Lets the current synchronous stretch end, as a watch cycle's does before the next. */
const nextStretch = () => new Promise<void>((resolve) => setImmediate(resolve));

it('a directory found missing is found again once it exists, from the next stretch on', async (t) => {
  const host = new TestHost(COMPLIANT);
  host.rememberMissing();
  t.is(host.readText('/var/lib/later/dir/file'), null);
  fs.mkdirSync(host.file('/var/lib/later/dir'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(host.file('/var/lib/later/dir/file'), 'here\n', { mode: 0o644 });
  await nextStretch();
  t.is(host.readText('/var/lib/later/dir/file'), 'here\n');
});

it('a directory found missing is forgotten at once when this host makes it, and what is written under it is read', (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirSync(host.file('/etc'), { recursive: true, mode: 0o755 });
  host.rememberMissing();
  t.is(host.readText('/etc/made/file'), null);
  t.is(host.lstat('/etc/made'), null);
  host.mkdir('/etc/made', 0o755);
  host.writeFileAtomic('/etc/made/file', 'written\n', ROOT_FILE);
  t.is(host.readText('/etc/made/file'), 'written\n');
});

it('a directory found missing in a world-writable sticky directory is not remembered: anyone may make it', (t) => {
  const host = new TestHost(COMPLIANT);
  fs.mkdirSync(host.file('/shared'), { recursive: true });
  fs.chmodSync(host.file('/shared'), 0o1777);
  host.rememberMissing();
  t.is(host.readText('/shared/dir/file', { trust: false }), null);
  // Made by "someone else" within the same stretch: the next read must not say it is missing.
  fs.mkdirSync(host.file('/shared/dir'), { mode: 0o755 });
  fs.writeFileSync(host.file('/shared/dir/file'), 'theirs\n');
  t.is(host.readText('/shared/dir/file', { trust: false }), 'theirs\n');
});

test('a directory found missing is asked again by a caller that did not ask to remember it: one that makes files itself between two reads', (t) => {
  const host = new TestHost(COMPLIANT);
  t.is(host.readText('/var/lib/made/here/file', { trust: false }), null);
  fs.mkdirSync(host.file('/var/lib/made/here'), { recursive: true });
  fs.writeFileSync(host.file('/var/lib/made/here/file'), 'now\n');
  t.is(host.readText('/var/lib/made/here/file', { trust: false }), 'now\n');
});

it('a file read through a symlink is still followed, and stat and lstat still tell the link from its target', (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/real.conf', 'real\n');
  fs.symlinkSync('real.conf', host.file('/etc/link.conf'));
  t.is(host.readText('/etc/link.conf'), 'real\n');
  t.is(host.stat('/etc/link.conf')?.isFile(), true);
  t.is(host.lstat('/etc/link.conf')?.isSymbolicLink(), true);
});

test("a run's view answers a repeated read from its first, a new run reads afresh, and its own writes are read back", (t) => {
  const host = new TestHost(COMPLIANT);
  host.write('/etc/view.conf', 'first\n');
  const view = runReads(host);
  t.is(view.readText('/etc/view.conf'), 'first\n');
  host.write('/etc/view.conf', 'second\n');
  t.is(view.readText('/etc/view.conf'), 'first\n', 'one run, one answer');
  t.is(runReads(host).readText('/etc/view.conf'), 'second\n', 'the next run reads what is there now');
  t.is(runReads(view).host, host, 'never a view of a view');
  if (isRoot) {
    view.writeFileAtomic('/etc/view.conf', 'third\n', ROOT_FILE);
    t.is(view.readText('/etc/view.conf'), 'third\n');
    view.chmod('/etc/view.conf', 0o644);
    t.is((view.lstat('/etc/view.conf')?.mode ?? 0) & 0o777, 0o644);
  }
});

it('a watch cycle sees a managed file changed since the cycle before, in the same process', async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host, { k3s: 'v1.28' });
  t.is((await run(ctx, { command: 'apply', roleChoice: ROLE, facts: false })).exitCode, 0);
  const cycle = new WatchCycle({ ctx, roleChoice: ROLE, controls: CONTROLS, remediate: false, log: () => {}, prefix: false });
  const status = (r: Awaited<ReturnType<WatchCycle['run']>>, id: string) => r.controls.find((c) => c.id === id)?.status;
  t.is(status(await cycle.run(), 'audit-policy'), 'pass');
  const audit = '/var/lib/rancher/k3s/server/audit.yaml';
  fs.appendFileSync(host.file(audit), '# edited\n');
  t.is(status(await cycle.run(), 'audit-policy'), 'fail');
  fs.writeFileSync(host.file(audit), fs.readFileSync(host.file(audit), 'utf8').replace('# edited\n', ''));
  t.is(status(await cycle.run(), 'audit-policy'), 'pass');
  fs.chmodSync(host.file(audit), 0o644);
  t.is(status(await cycle.run(), 'audit-policy'), 'fail');
});

it("a kube-bench row's verdict follows its audit output from one cycle to the next", async (t) => {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host, { k3s: 'v1.28' });
  t.is((await run(ctx, { command: 'apply', roleChoice: ROLE, facts: false })).exitCode, 0);
  const cycle = new WatchCycle({ ctx, roleChoice: ROLE, controls: CONTROLS, remediate: false, log: () => {}, prefix: false });
  const anonymous = async () =>
    (await cycle.run()).controls.find((c) => c.id === 'kube-bench')?.findings.find((f) => f.expected === '--anonymous-auth eq false');
  t.is((await anonymous())?.status, 'pass');
  host.write('/etc/rancher/k3s/config.yaml', 'kube-apiserver-arg: ["--anonymous-auth=true"]\n', 0o600);
  const failing = await anonymous();
  t.is(failing?.status, 'fail');
  t.regex(failing?.reason ?? '', /--anonymous-auth=true \(\/etc\/rancher\/k3s\/config\.yaml\)/);
  fs.rmSync(host.file('/etc/rancher/k3s/config.yaml'));
  t.is((await anonymous())?.status, 'pass');
});
