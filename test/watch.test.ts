/**
 * watch, run as the built command in a private mount namespace (helpers/sandbox.ts): file
 * events, the interval fallback, one line per change of state, remediation of only the control
 * that drifted, the metrics file, SIGTERM, and memory over many thousands of cycles. The scheduler
 * and the cycle are tested alone, without root, in test/watch/.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { CLI, HOSTILE, Sandbox, isRoot } from './helpers/sandbox.js';
import { promtool } from './helpers/promtool.js';
import { type ProbeStep, STEPS } from './helpers/watch-replay-probe.js';

const it = isRoot() ? test : test.skip;
const CONFIG = '/etc/k3s-hostprep/config.yaml';
const MANIFESTS = '/var/lib/rancher/k3s/server/manifests';
const AUDIT = '/var/lib/rancher/k3s/server/audit.yaml';
const METRICS = '/var/lib/node_exporter/textfile_collector/k3s_hostprep.prom';

async function converged(config: string): Promise<Sandbox> {
  const s = new Sandbox({ kernel: HOSTILE });
  const apply = await s.cli('apply');
  if (apply.exitCode !== 0) throw new Error(apply.stdout + apply.stderr);
  s.write(CONFIG, config);
  return s;
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'g')) ?? []).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a file event triggers a cycle long before the interval; each change of state is logged once; SIGTERM ends it within a second', async (t) => {
  const s = await converged(`watch:\n  interval: 3600\nmetrics:\n  textfilePath: ${METRICS}\n`);
  const w = s.start([process.execPath, CLI, 'watch']);
  await w.waitFor(/first verification: verdict=compliant /);
  t.regex(w.stderr, /^watch started: controls=\d+ role=server interval=3600s watching=\d+ remediate=off$/m);
  t.notRegex(w.stderr, /^</m, 'no priority prefix outside the journal');

  let started = Date.now();
  s.write('/etc/sysctl.d/99-tuning.conf', 'vm.overcommit_memory = 2\n');
  await w.waitFor(
    /drift: control=kernel-parameters-boot item="vm\.overcommit_memory at boot" status=fail expected=1 actual="2 \(\/etc\/sysctl\.d\/99-tuning\.conf:1\)" since=\S+ was=pass/,
  );
  t.true(Date.now() - started < 5000, 'seen through a file event, not the hourly interval');

  // More events, same state: nothing new is logged.
  fs.appendFileSync(s.host('/etc/sysctl.d/99-tuning.conf'), '# touched\n');
  fs.writeFileSync(s.host('/etc/sysctl.d/50-unrelated.conf'), 'net.ipv4.ip_forward = 1\n');
  await sleep(1500);
  t.is(count(w.stderr, /drift: control=kernel-parameters-boot/), 1, w.stderr);

  started = Date.now();
  fs.chmodSync(s.host(MANIFESTS), 0o755);
  await w.waitFor(
    /drift: control=directories item=\/var\/lib\/rancher\/k3s\/server\/manifests status=fail expected="directory, mode 0700, owner root:root" actual="directory, mode 0755, owner root:root"/,
  );
  t.true(Date.now() - started < 5000, 'a chmod is an event too');

  fs.removeSync(s.host('/etc/sysctl.d/99-tuning.conf'));
  await w.waitFor(/restored: control=kernel-parameters-boot item="vm\.overcommit_memory at boot" status=pass .* was=fail drifted_for=\d+s/);

  // The metrics file follows every cycle and is valid exposition format.
  const metricsFile = s.host(METRICS);
  await waitUntil(
    () => fs.existsSync(metricsFile) && /k3s_hostprep_drift_total\{id="kernel-parameters-boot",cis=""\} 1/.test(fs.readFileSync(metricsFile, 'utf8')),
  );
  const metrics = fs.readFileSync(metricsFile, 'utf8');
  t.is(promtool(metrics).exitCode, 0, promtool(metrics).output);
  t.regex(metrics, /^k3s_hostprep_control_status\{id="directories",cis=""\} 0$/m);
  t.regex(metrics, /^k3s_hostprep_drift_total\{id="directories",cis=""\} 1$/m);
  t.regex(metrics, /^k3s_hostprep_watch_interval_seconds 3600$/m, 'the watch exports its interval');
  t.regex(metrics, /^k3s_hostprep_compliant 0$/m);
  t.deepEqual(fs.readdirSync(s.host('/var/lib/node_exporter/textfile_collector')), ['k3s_hostprep.prom'], 'no temporary file left behind');
  t.is(fs.statSync(metricsFile).mode & 0o777, 0o644);

  started = Date.now();
  process.kill(w.pid, 'SIGTERM');
  const exit = await w.exited;
  t.true(Date.now() - started < 1000, `stopped in ${Date.now() - started} ms`);
  t.is(exit.exitCode, 0);
  t.regex(w.stderr, /watch stopped: cycles=\d+ reason=SIGTERM\n$/);
  s.dispose();
});

it('the interval catches what no event announces; remediate re-applies only the drifted control, and a failure is logged once', async (t) => {
  const s = await converged('watch:\n  interval: 1\n  remediate: true\n');
  const auditBefore = fs.statSync(s.host(AUDIT));
  const w = s.start([process.execPath, CLI, 'watch']);
  await w.waitFor(/first verification: verdict=compliant/);

  // /proc/sys sends no inotify events: the interval finds it.
  s.setKernel('vm.overcommit_memory', '0');
  await w.waitFor(
    /drift: control=kernel-parameters item=vm\.overcommit_memory status=fail expected=1 actual=0 .*reason="invalid kernel flag: vm\/overcommit_memory, expected value: 1, actual value: 0"/,
  );
  await w.waitFor(/remediated: control=kernel-parameters changes="sysctl vm\.overcommit_memory: 0 -> 1"/);
  await w.waitFor(/restored: control=kernel-parameters item=vm\.overcommit_memory status=pass/);
  t.is(s.kernel('vm.overcommit_memory'), '1');

  fs.chmodSync(s.host(MANIFESTS), 0o777);
  await w.waitFor(/remediated: control=directories changes="chmod \/var\/lib\/rancher\/k3s\/server\/manifests: 0777 -> 0700"/);
  t.is(fs.statSync(s.host(MANIFESTS)).mode & 0o7777, 0o700);
  const auditAfter = fs.statSync(s.host(AUDIT));
  t.is(auditAfter.ino, auditBefore.ino, 'the audit policy (not drifted) was not rewritten');
  t.is(auditAfter.mtimeMs, auditBefore.mtimeMs);

  // Someone else's file cannot be remediated: one failure line, not one per cycle.
  s.write('/etc/sysctl.d/99-tuning.conf', 'kernel.panic = 0\n');
  await w.waitFor(/remediation failed: control=kernel-parameters-boot/);
  await sleep(3500);
  t.is(count(w.stderr, /remediation failed: control=kernel-parameters-boot/), 1, w.stderr);
  t.is(count(w.stderr, /drift: control=kernel-parameters-boot item="kernel\.panic at boot"/), 1);
  t.is(fs.readFileSync(s.host('/etc/sysctl.d/99-tuning.conf'), 'utf8'), 'kernel.panic = 0\n', 'never edited');

  process.kill(w.pid, 'SIGTERM');
  t.is((await w.exited).exitCode, 0);
  s.dispose();
});

it('memory stays flat over many thousands of cycles, checked in full or given again', async (t) => {
  const s = await converged('role: server\n');
  // The same V8 flag the unit sets (NODE_OPTIONS): a daemon needs no large young generation.
  const harness = path.join(import.meta.dirname, 'helpers/watch-harness.js');
  for (const mode of ['--full', '--replay']) {
    // Minutes, not seconds, on a slow machine: what is asserted is the memory, not the time.
    const r = await s.exec([process.execPath, '--expose-gc', '--max-semi-space-size=1', harness, '6000', mode], {}, 300_000);
    t.is(r.exitCode, 0, r.stderr);
    const stats = JSON.parse(r.stdout);
    t.is(stats.cycles, 6000);
    // In full: every cycle judged again. Given again: after the racy margin (the files were just
    // written), every cycle whose check found what the one before found.
    if (mode === '--full') t.is(stats.replayed, 0);
    else t.true(stats.replayed > 3000, `${stats.replayed} of 6000 cycles given again`);
    const heap = stats.end.heapUsed - stats.warm.heapUsed;
    const rss = stats.end.rss - stats.warm.rss;
    t.log(
      `${mode}: after warm-up vs after 6000 cycles: heap ${(heap / 1024).toFixed(0)} KiB, RSS ${(rss / 1024).toFixed(0)} KiB; ${stats.cpuMicrosPerCycle.toFixed(0)} us CPU per cycle`,
    );
    t.true(heap < 1024 * 1024, `${mode}: heap grew by ${heap} bytes`);
    t.true(rss < 16 * 1024 * 1024, `${mode}: RSS grew by ${rss} bytes`);
    t.is(count(r.stderr, /^drift/m), 0, 'a compliant host logs no drift');
  }
  s.dispose();
});

it('a cycle is given again only while nothing it read changed: a drifted kernel value or a chmod is seen at the next cycle', async (t) => {
  const s = await converged('role: server\n');
  await sleep(1200);
  const probe = path.join(import.meta.dirname, 'helpers/watch-replay-probe.js');
  const r = await s.exec([process.execPath, probe], {}, 120_000);
  t.is(r.exitCode, 0, r.stderr);
  const seen = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ProbeStep);
  const expected: Array<[replayed: boolean, exitCode: number]> = [
    [false, 0], // the first cycle checks in full
    [true, 0], // nothing changed: given again
    [false, 1], // kernel.panic drifted: checked in full, and it fails
    [true, 1], // the drift stays: given again, still failing
    [false, 0], // restored
    [false, 1], // audit.yaml 0644
    [false, 0], // audit.yaml 0600 again (changed just now: not given again before the racy margin)
  ];
  t.deepEqual(
    seen.map((c) => [c.step, c.replayed, c.exitCode]),
    STEPS.map(([step], i) => [step, ...expected[i]!]),
  );
  s.dispose();
});

it('watch refuses --root, and has no benchmark mode', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const root = await s.cli('watch', '--root', s.dir);
  t.is(root.exitCode, 2);
  t.regex(root.stderr, /watch does not take --root/);
  const cycles = await s.cli('watch', '--cycles', '5');
  t.is(cycles.exitCode, 2);
  t.regex(cycles.stderr, /--cycles/);
  s.dispose();
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}
