/**
 * Writers and judges come from the same rows: every flag apply writes is judged by a row of the
 * selected benchmark or names the guide's reason; every scored automated flag check of every
 * benchmark passes on what K3s will run after a default apply (bar the datastore's etcd flags);
 * and each unscored check left to the operator passes once its knob is on.
 */
import test from 'ava';
import { defaultConfig, parseConfig } from '../../src/config/load.js';
import { judgeFlags } from '../../src/controls/benchmark.js';
import { BENCHMARK_NAMES, benchmarkRows, k3sBenchmark } from '../../src/k3s/benchmarks/index.js';
import { mergeK3sConfig } from '../../src/k3s/config-files.js';
import { dropInValues, k3sSettings } from '../../src/k3s/settings.js';
import { parseK3sVersion, type K3sVersion } from '../../src/k3s/version.js';
import { idsFor, rowNote, writes } from '../../src/k3s/writers.js';

const v = (text: string) => parseK3sVersion(text) as K3sVersion;
/** A K3s version of each benchmark's lines, and the K3s v1.32.1-v1.32.3 kubelet gap. */
const LINES = ['v1.23.17+k3s1', 'v1.24.17+k3s1', 'v1.25.16+k3s4', 'v1.26.15+k3s1', 'v1.28.5+k3s1', 'v1.30.4+k3s1', 'v1.32.2+k3s1', 'v1.33.1+k3s1'];
const KNOBS = parseConfig('admission: {alwaysPullImages: true, denyServiceExternalIPs: true}\nkubelet: {podMaxPids: 4096}\n', 'c.yaml');

function mergedDropIn(config: ReturnType<typeof defaultConfig>, version: K3sVersion, role: 'server' | 'agent') {
  const values = dropInValues(k3sSettings(config, version), role);
  const entries = Object.entries(values).map(([k, value]) => ({ key: k.replace(/\+$/, ''), append: k.endsWith('+'), value }));
  return mergeK3sConfig([{ path: '/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml', entries }]);
}

test('every flag apply writes is judged by a row of the benchmark, or says which guide asks for it; none is judged nowhere without a reason', (t) => {
  let judged = 0;
  const judgedSomewhere = new Set<string>();
  const written = new Map<string, string | undefined>();
  for (const line of LINES) {
    const version = v(line);
    const rows = benchmarkRows(k3sBenchmark(version));
    for (const config of [defaultConfig(), KNOBS]) {
      for (const w of writes(config, version, 'server')) {
        const ids = idsFor(rows, w);
        written.set(w.flag, w.guide);
        if (ids.length > 0) {
          judged++;
          judgedSomewhere.add(w.flag);
        } else t.truthy(w.guide, `${line}: ${w.key} ${w.flag}=${w.value} has neither a judging row nor a stated reason`);
      }
    }
  }
  t.true(judged > 60);
  // Written for the guide alone, judged by no supported benchmark: each says why.
  const guideOnly = [...written.keys()].filter((f) => !judgedSomewhere.has(f)).sort();
  t.deepEqual(guideOnly, ['admission-control-config-file', 'service-account-extend-token-expiration', 'tls-min-version']);
});

test("a default apply leaves no scored automated flag check failing in any benchmark, bar the datastore's", (t) => {
  for (const line of LINES) {
    const version = v(line);
    const name = k3sBenchmark(version);
    for (const role of ['server', 'agent'] as const) {
      const verdicts = judgeFlags(name, version, role, mergedDropIn(defaultConfig(), version, role));
      const rows = new Map(benchmarkRows(name).map((r) => [r.id, r]));
      for (const [id, verdict] of Object.entries(verdicts)) {
        const row = rows.get(id)!;
        if (!row.scored || verdict.state === 'PASS') continue;
        const datastore = row.tests?.items.some((i) => /--etcd-(cafile|certfile|keyfile)/.test(i.flag ?? '')) ?? false;
        t.true(datastore, `${name} (K3s ${line}) ${role}: ${id} ${verdict.state}: ${verdict.reason}`);
      }
    }
  }
});

test('each unscored check the guide leaves to the operator warns with its knob named, and passes with the knob on', (t) => {
  for (const name of BENCHMARK_NAMES) {
    const line = LINES.find((l) => k3sBenchmark(v(l)) === name)!;
    const version = v(line);
    const off = judgeFlags(name, version, 'server', mergedDropIn(defaultConfig(), version, 'server'));
    const on = judgeFlags(name, version, 'server', mergedDropIn(KNOBS, version, 'server'));
    let knobs = 0;
    for (const row of benchmarkRows(name)) {
      const note = rowNote(row, { config: defaultConfig() });
      if (!note || !/Set (admission|kubelet)\./.test(note) || !(row.id in off)) continue;
      knobs++;
      t.not(off[row.id]!.state, 'PASS', `${name} ${row.id} without its knob`);
      t.is(on[row.id]!.state, 'PASS', `${name} ${row.id} with ${note}`);
    }
    // Where kube-bench's audit reads containerd's process list (k3s-cis-1.23's and 1.7's
    // AlwaysPullImages) no knob helps; pod-max-pids arrived with k3s-cis-1.7, DenyServiceExternalIPs with 1.9.
    t.is(knobs, ({ 'k3s-cis-1.23': 0, 'k3s-cis-1.24': 1, 'k3s-cis-1.7': 1, 'k3s-cis-1.8': 2, 'k3s-cis-1.9': 3 } as Record<string, number>)[name]!, name);
  }
});
