#!/usr/bin/env node
// Writes the README's per-benchmark tables (between the benchmark-tables markers) from the rows and
// writers the agent runs. Needs the test build (npm run build:test); test/readme.test.ts checks them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { benchmarkTables } = await import(path.join(repo, 'build/src/docs/benchmark-tables.js'));
const { BENCHMARK_NAMES } = await import(path.join(repo, 'build/src/k3s/benchmarks/index.js'));
const file = path.join(repo, 'README.md');
const text = fs.readFileSync(file, 'utf8');
const start = '<!-- benchmark-tables:start -->';
const end = '<!-- benchmark-tables:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md has no benchmark-tables markers');
const order = ['k3s-cis-1.9', ...BENCHMARK_NAMES.filter((n) => n !== 'k3s-cis-1.9')];
fs.writeFileSync(file, `${text.slice(0, a + start.length)}\n${benchmarkTables(order)}\n${text.slice(b)}`);
