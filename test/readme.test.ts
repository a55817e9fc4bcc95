/** The README's per-benchmark tables are the ones the rows and writers make (scripts/benchmark-tables.mjs). */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { BENCHMARK_NAMES } from '../src/k3s/benchmarks/index.js';
import { benchmarkTables } from '../src/docs/benchmark-tables.js';
import { REPO } from './helpers/sandbox.js';

test("the README carries every benchmark's table as the rows and writers make it", (t) => {
  const text = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const m = /<!-- benchmark-tables:start -->\n([\s\S]*)\n<!-- benchmark-tables:end -->/.exec(text);
  t.truthy(m, 'markers');
  const order = ['k3s-cis-1.9', ...BENCHMARK_NAMES.filter((n) => n !== 'k3s-cis-1.9')] as (typeof BENCHMARK_NAMES)[number][];
  t.is(m![1], benchmarkTables(order), 'run: npm run build:test && node scripts/benchmark-tables.mjs');
  for (const name of BENCHMARK_NAMES) t.regex(m![1]!, new RegExp(`<code>${name.replace(/\./g, '\\.')}</code>`));
  t.regex(text, /kube-bench run --benchmark k3s-cis-1\.9 --targets node/);
});
