/**
 * Every check id a report carries is the selected benchmark's: the control-level cis of the
 * host controls, the findings, JUnit and the Prometheus labels. Numbers differ between
 * benchmarks, and a check a benchmark dropped has no id there.
 */
import test from 'ava';
import { run } from '../../src/engine.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMetrics } from '../../src/report/prometheus.js';
import { chooseBenchmark } from '../../src/k3s/benchmarks/index.js';
import { defaultConfig } from '../../src/config/load.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

async function report(k3s: string, benchmark?: string) {
  const host = new TestHost(COMPLIANT);
  const ctx = context(host, { k3s });
  if (benchmark) {
    const chosen = chooseBenchmark(benchmark, defaultConfig(), ctx.k3s!.version);
    if ('error' in chosen) throw new Error(chosen.error);
    ctx.benchmark = chosen;
  }
  return run(ctx, { command: 'check', roleChoice: { role: 'server', source: 'test' }, facts: false });
}

const cis = (r: Awaited<ReturnType<typeof report>>, id: string) => r.controls.find((c) => c.id === id)!.cis;

test('the host controls carry the ids of the benchmark kube-bench picks for the K3s line', async (t) => {
  const old = await report('v1.24.17+k3s1');
  t.deepEqual(old.benchmark.name, 'k3s-cis-1.24');
  t.is(cis(old, 'kernel-parameters'), '4.2.6', 'protect-kernel-defaults in k3s-cis-1.24');
  t.is(cis(old, 'audit-policy'), '3.2.1');
  t.is(old.controls.find((c) => c.id === 'directories')!.findings.find((f) => f.item.endsWith('/logs'))!.cis, '1.2.19');
  const now = await report('v1.28.5+k3s1');
  t.is(now.benchmark.name, 'k3s-cis-1.9');
  t.regex(now.benchmark.source, /kube-bench's choice for K3s v1\.28/);
  t.is(cis(now, 'kernel-parameters'), null, 'k3s-cis-1.9 has no protect-kernel-defaults check: no borrowed number');
  t.is(now.controls.find((c) => c.id === 'directories')!.findings.find((f) => f.item.endsWith('/logs'))!.cis, '1.2.16');
  // --benchmark overrides kube-bench's choice, and the ids follow.
  const forced = await report('v1.28.5+k3s1', 'k3s-cis-1.24');
  t.is(forced.benchmark.source, '--benchmark');
  t.is(cis(forced, 'kernel-parameters'), '4.2.6');
});

test('JUnit names the benchmark and the Prometheus check series carry its ids', async (t) => {
  const r = await report('v1.28.5+k3s1');
  const xml = renderJunit(r);
  t.regex(xml, /<property name="benchmark" value="k3s-cis-1\.9"\/>/);
  t.regex(xml, /<testcase classname="kube-bench" name="1\.2\.15 Ensure that the --profiling argument is set to false"\/>/);
  const metrics = renderMetrics({ report: r, now: 0 });
  t.regex(metrics, /^k3s_hostprep_check\{benchmark="k3s-cis-1\.9",cis="1\.2\.15",state="pass"\} 1$/m);
  t.regex(metrics, /^k3s_hostprep_check\{benchmark="k3s-cis-1\.9",cis="1\.1\.20",state="skip"\} 1$/m, 'before the first start');
});
