/**
 * Crash safety: apply killed with SIGKILL at many moments (see helpers/crash-driver.ts for how
 * the moments are chosen), in a private mount namespace. After every kill each target file is
 * absent (when it was absent before), the whole old version or the whole new one, never torn;
 * the next apply converges and removes what the killed run left behind.
 */
import test from 'ava';
import { isRoot } from '../helpers/sandbox.js';
import { runCrashTrials } from '../helpers/crash.js';

const it = isRoot() ? test : test.skip;
// npm test runs a sample; scripts/reliability.mjs runs 200 (or --trials N), the figures the README shows.
const TRIALS = Number(process.env.K3S_HOSTPREP_CRASH_TRIALS ?? 40);

it(`apply killed at ${TRIALS} moments never leaves a torn or lost file, and the next apply converges`, async (t) => {
  t.timeout(15 * 60_000);
  const seed = Number(process.env.K3S_HOSTPREP_CRASH_SEED ?? Date.now() % 100_000);
  const f = await runCrashTrials(TRIALS, seed);
  t.log(
    `seed ${f.seed}: ${f.trials} trials, ${f.killed} killed (${f.killedAtSyscall} at a system call, ${f.killedByDelay} by a timer), ${f.survived} survived, ${f.tornFiles} torn, ${f.filesLost} lost, ${f.tempsLeftByKills} temporary files left by kills and removed by the next apply, kill points ${f.killPointsHit}/${f.killPoints}, file states ${JSON.stringify(f.fileStates)}, ${f.seconds}s`,
  );
  for (const failure of f.failures.slice(0, 5)) t.log(JSON.stringify(failure));
  t.is(f.trials, TRIALS);
  t.is(f.filesLost, 0);
  t.is(f.tornFiles, 0);
  t.is(f.tempsAfterConverge, 0);
  t.is(f.survived, f.trials, `failed trials (seed ${f.seed}): ${f.failures.map((x) => x.trial).join(', ')}`);
  t.true(f.killedAtSyscall >= TRIALS / 2, 'most trials are killed at a chosen system call');
  t.true(f.killedByDelay > 0, 'some trials are killed by a timer');
  t.true((f.fileStates.old ?? 0) > 0 && (f.fileStates.new ?? 0) > 0, 'kills land both before and after the writes');
});
