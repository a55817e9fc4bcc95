#!/usr/bin/env node
/**
 * Adversarial figures: runs the attacks of test/security (a hostile non-root user owning a
 * directory, a file, an ACL entry, a PATH entry or a kubeconfig; a process exchanging a
 * directory with a symlink while k3s-hostprep writes) in private mount namespaces, never
 * against this machine's kernel or files, and prints how many cases were tried, how many races
 * were run and how many escapes were found. Exits 1 when a case failed or anything escaped.
 *
 *   npm run build && npm run build:test && sudo node scripts/adversarial.mjs
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.geteuid?.() !== 0) {
  console.error('adversarial: run as root (private mount namespaces)');
  process.exit(2);
}
const files = [
  'build/test/security/trust.test.js',
  'build/test/security/races.test.js',
  'build/test/kube/service-accounts.test.js',
  'build/test/replay/last-run.test.js',
];
if (!files.every((f) => fs.existsSync(path.join(REPO, f)))) {
  console.error('adversarial: run `npm run build && npm run build:test` first');
  process.exit(2);
}
const ava = path.join(REPO, 'node_modules/ava/entrypoints/cli.mjs');
const result = spawnSync(process.execPath, [ava, '--tap', ...files], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const lines = String(result.stdout).split('\n');
const cases = lines.filter((l) => /^(not )?ok \d+ /.test(l));
const failed = cases.filter((l) => l.startsWith('not ok'));
const sum = (re) => lines.reduce((n, l) => n + Number(re.exec(l)?.[1] ?? 0), 0);
const races = lines.filter((l) => /raced against/.test(l));
const figures = {
  casesTried: cases.length,
  casesFailed: failed.length,
  racesRun: races.length,
  operationsRaced: sum(/# +(\d+) [^\n]*raced against/),
  exchangesMade: sum(/raced against (\d+) exchanges/),
  escapesFound: sum(/escapes: (\d+)/),
};
console.log('k3s-hostprep adversarial figures (hostile: any non-root local user; trusted: root, the kernel, the package manager)');
for (const l of cases) console.log(`  ${l.replace(/^ok \d+ - /, 'pass: ').replace(/^not ok \d+ - /, 'FAIL: ')}`);
for (const l of races) console.log(`  race: ${l.replace(/^#\s+/, '')}`);
console.log(JSON.stringify(figures, null, 2));
if (failed.length > 0) console.log(String(result.stdout));
process.exit(failed.length > 0 || figures.escapesFound > 0 || result.status !== 0 ? 1 : 0);
