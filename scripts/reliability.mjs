#!/usr/bin/env node
/**
 * Reliability figures: apply killed at many moments, concurrent applies, malformed
 * configurations and host faults, all run as root in private mount namespaces (the test
 * sandbox), never against this machine's kernel or files. Prints the figures; exits 1 when a
 * file was lost or torn, or a fault or configuration was not handled.
 *
 *   npm run build && npm run build:test && sudo node scripts/reliability.mjs [--trials N] [--seed N]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const TRIALS = option('--trials', 200);
const SEED = option('--seed', Date.now() % 100_000);

if (process.geteuid?.() !== 0) {
  console.error('reliability: run as root (private mount namespaces)');
  process.exit(2);
}
if (!fs.existsSync(path.join(REPO, 'build/test/helpers/crash.js'))) {
  console.error('reliability: run `npm run build && npm run build:test` first');
  process.exit(2);
}

const { HOSTILE, Sandbox } = await import(path.join(REPO, 'build/test/helpers/sandbox.js'));
const { runCrashTrials, concurrentApplies, CONFIG_A, CONFIG_B } = await import(path.join(REPO, 'build/test/helpers/crash.js'));
const { badConfigs } = await import(path.join(REPO, 'build/test/helpers/corpus.js'));
const { applyEach } = await import(path.join(REPO, 'build/test/helpers/bad-config-run.js'));
const { FAULTS, runFault } = await import(path.join(REPO, 'build/test/helpers/faults.js'));

const started = Date.now();
const figures = {};

// 1. Crash trials.
const crash = await runCrashTrials(TRIALS, SEED);
figures.crash = crash;

// 2. Ten applies at once, five with each of two configurations.
{
  const s = new Sandbox({ kernel: { ...HOSTILE, 'net.ipv4.ip_forward': '0' } });
  const a = s.path('a.yaml');
  const b = s.path('b.yaml');
  fs.writeFileSync(a, CONFIG_A);
  fs.writeFileSync(b, CONFIG_B);
  const runs = await concurrentApplies(s, a, b);
  const [checkA, checkB] = await Promise.all([s.cli('check', '--config', a), s.cli('check', '--config', b)]);
  figures.concurrency = {
    started: 10,
    exit0: runs.filter((r) => r.exitCode === 0).length,
    lockTimeouts: runs.filter((r) => /another run holds the lock/.test(r.stderr)).length,
    otherExits: runs.filter((r) => r.exitCode !== 0 && !/another run holds the lock/.test(r.stderr)).length,
    compliantAfter: checkA.exitCode === 0 || checkB.exitCode === 0,
    tempsLeft: s.list('etc-sysctl.d').filter((n) => n.endsWith('.tmp')).length,
  };
  s.dispose();
}

// 3. Malformed configurations: the corpus, files that cannot be committed, and random ones.
{
  const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-rel-'));
  const huge = path.join(extra, 'huge.yaml');
  fs.writeFileSync(huge, 'role: server\n' + '#'.repeat(2 * 1024 * 1024) + '\n');
  const fifo = path.join(extra, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  const fc = (await import('fast-check')).default;
  const { stringify } = await import('yaml');
  const { parseConfig } = await import(path.join(REPO, 'build/src/config/load.js'));
  const { configObject } = await import(path.join(REPO, 'build/test/helpers/config-arbitrary.js'));
  const random = [];
  if (configObject) {
    for (const object of fc.sample(configObject, { numRuns: 300, seed: SEED })) {
      const text = stringify(object);
      try {
        parseConfig(text, 'x');
        continue;
      } catch {
        /* rejected: run it */
      }
      const file = path.join(extra, `random-${random.length}.yaml`);
      fs.writeFileSync(file, text);
      random.push(file);
      if (random.length === 30) break;
    }
  }
  const files = [...badConfigs().map((c) => c.file), huge, fifo, '/dev/zero', extra, ...random];
  const result = await applyEach(files);
  figures.configs = {
    tried: files.length,
    corpus: badConfigs().length,
    random: random.length,
    rejectedExit2: result.runs.filter((r) => r.exitCode === 2).length,
    otherExits: result.runs.filter((r) => r.exitCode !== 2).map((r) => `${r.file}: ${r.exitCode}`),
    written: result.written,
  };
  fs.rmSync(extra, { recursive: true, force: true });
}

// 4. Faults from the host: the scenario table the tests assert (test/helpers/faults.ts).
figures.faults = [];
for (const scenario of FAULTS) {
  const r = await runFault(scenario);
  const lines = r.stderr.trimEnd().split('\n');
  figures.faults.push({
    fault: scenario.name,
    exitCode: r.exitCode,
    stderrLines: lines.length,
    line: lines[0],
    oldFileIntact: r.oldFileIntact,
    saysWhy: scenario.line.test(lines[0] ?? ''),
    tempsLeft: r.tempsLeft.length,
  });
}

const faultsHandled = figures.faults.filter((f) => f.exitCode === 3 && f.stderrLines === 1 && f.saysWhy && f.oldFileIntact && f.tempsLeft === 0).length;
const filesLost = crash.filesLost + crash.tornFiles + figures.faults.filter((f) => !f.oldFileIntact).length + figures.configs.written.length;
const seconds = Math.round((Date.now() - started) / 1000);

console.log(`k3s-hostprep reliability (seed ${SEED}, ${seconds}s, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)})`);
console.log('');
console.log(`crash trials run:        ${crash.trials}`);
console.log(
  `  killed by SIGKILL:     ${crash.killed} (${crash.killedAtSyscall} at a chosen system call, ${crash.killedByDelay} after a random delay; ${crash.trials - crash.killed} ran to the end)`,
);
console.log(
  `  kill points:           ${crash.killPointsHit} distinct of ${crash.killPoints} listed (file-changing system calls of full runs from 8 starting states)`,
);
console.log(
  `  file states after kill: ${Object.entries(crash.fileStates)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log(`  temporary files left by kills: ${crash.tempsLeftByKills}, left after the next apply: ${crash.tempsAfterConverge}`);
console.log(`trials survived:         ${crash.survived} of ${crash.trials} (whole files, next apply converged)`);
console.log(
  `concurrent applies:      ${figures.concurrency.started} started, ${figures.concurrency.exit0} exit 0, ${figures.concurrency.lockTimeouts} lock timeouts, ${figures.concurrency.otherExits} other; compliant after: ${figures.concurrency.compliantAfter}`,
);
console.log(
  `configs rejected:        ${figures.configs.rejectedExit2} of ${figures.configs.tried} with exit 2 (${figures.configs.corpus} corpus, ${figures.configs.random} random, 4 special files); files written: ${figures.configs.written.length}`,
);
console.log(
  `faults injected:         ${figures.faults.length}, handled (exit 3, one line naming the cause, old file intact, no temporary file): ${faultsHandled}`,
);
for (const f of figures.faults) console.log(`  ${f.fault.padEnd(28)} exit ${f.exitCode}, old file ${f.oldFileIntact ? 'intact' : 'CHANGED'}: ${f.line}`);
console.log(`files lost:              ${filesLost}`);

const ok =
  filesLost === 0 &&
  crash.survived === crash.trials &&
  faultsHandled === figures.faults.length &&
  figures.configs.rejectedExit2 === figures.configs.tried &&
  figures.concurrency.compliantAfter &&
  figures.concurrency.otherExits === 0;
if (!ok) {
  for (const failure of crash.failures.slice(0, 5)) console.log(JSON.stringify(failure));
  if (figures.configs.otherExits.length) console.log(figures.configs.otherExits.join('\n'));
}
process.exit(ok ? 0 : 1);
