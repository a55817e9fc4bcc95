/** Sets up a sandbox for the crash trials and runs crash-driver.js inside its namespace. */
import fs from 'fs-extra';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, HOSTILE, Sandbox } from './sandbox.js';
import type { CrashFigures, CrashOptions } from './crash-driver.js';

const DRIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-driver.js');

export const CONFIG_A = `sysctl:
  net.ipv4.ip_forward: 1
audit:
  policy:
    apiVersion: audit.k8s.io/v1
    kind: Policy
    rules:
      - level: Metadata
`;

export const CONFIG_B = `sysctl:
  net.ipv4.ip_forward: 0
audit:
  policy:
    apiVersion: audit.k8s.io/v1
    kind: Policy
    omitStages: [RequestReceived]
    rules:
      - level: None
        users: ["system:kube-proxy"]
      - level: RequestResponse
        resources: [{group: "", resources: [secrets, configmaps]}]
      - level: Metadata
`;

/**
 * Starts `count` applies at once, alternately with configurations `a` and `b`, and returns how
 * each ended. All in one namespace, as on one host: each sandbox run mounts its own overlay of
 * /etc over the one upper directory, and a file one overlay renames into place while another
 * reads (an apply plans before it takes the lock) can be stale there (ESTALE), which no host has.
 * The lock test and scripts/reliability.mjs both run this scenario.
 */
export async function concurrentApplies(s: Sandbox, a: string, b: string, count = 10): Promise<{ exitCode: number; stderr: string }[]> {
  const out = s.path('runs');
  fs.mkdirpSync(out);
  const starts = Array.from(
    { length: count },
    (_, i) => `(${process.execPath} ${CLI} apply --json --config ${i % 2 === 0 ? a : b} >/dev/null 2>${out}/${i}.err; echo $? >${out}/${i}.rc) &`,
  );
  await s.exec(['sh', '-c', `${starts.join(' ')} wait`]);
  return Array.from({ length: count }, (_, i) => ({
    exitCode: Number(fs.readFileSync(path.join(out, `${i}.rc`), 'utf8')),
    stderr: fs.readFileSync(path.join(out, `${i}.err`), 'utf8'),
  }));
}

export function findStrace(): string | null {
  for (const p of ['/usr/bin/strace', '/bin/strace', '/usr/local/bin/strace']) if (fs.existsSync(p)) return p;
  return null;
}

/** One sandbox running a share of the trials. */
async function runInSandbox(trials: number, seed: number, strace: string, delayShare: number, timeoutMs: number): Promise<CrashFigures> {
  const s = new Sandbox({ kernel: { ...HOSTILE, 'net.ipv4.ip_forward': '0' } });
  try {
    const dir = s.path('crash');
    fs.mkdirpSync(dir);
    fs.writeFileSync(path.join(dir, 'config-a.yaml'), CONFIG_A);
    fs.writeFileSync(path.join(dir, 'config-b.yaml'), CONFIG_B);
    const o: CrashOptions = { trials, seed, cli: CLI, node: process.execPath, strace, dir, delayShare };
    const r = await s.exec([process.execPath, DRIVER, JSON.stringify(o)], {}, timeoutMs);
    if (r.exitCode !== 0) throw new Error(`crash driver failed (${r.exitCode}): ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as CrashFigures;
  } finally {
    s.dispose();
  }
}

/**
 * Runs the trials in `workers` sandboxes at once (each its own namespace, files and kernel),
 * seeds seed, seed+1, ...; the figures are summed.
 */
export async function runCrashTrials(
  trials: number,
  seed: number,
  options: { delayShare?: number; timeoutMs?: number; workers?: number } = {},
): Promise<CrashFigures> {
  const strace = findStrace();
  if (strace === null) throw new Error('strace is needed for the crash trials (apt-get install strace)');
  const workers = Math.max(1, Math.min(options.workers ?? 2, trials));
  const shares = Array.from({ length: workers }, (_, i) => Math.floor(trials / workers) + (i < trials % workers ? 1 : 0));
  const parts = await Promise.all(shares.map((n, i) => runInSandbox(n, seed + i, strace, options.delayShare ?? 0.25, options.timeoutMs ?? 900_000)));
  const sum = (key: keyof CrashFigures) => parts.reduce((a, p) => a + (p[key] as number), 0);
  const fileStates: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.fileStates)) fileStates[k] = (fileStates[k] ?? 0) + v;
  return {
    seed,
    trials: sum('trials'),
    killed: sum('killed'),
    killedAtSyscall: sum('killedAtSyscall'),
    killedByDelay: sum('killedByDelay'),
    survived: sum('survived'),
    tornFiles: sum('tornFiles'),
    filesLost: sum('filesLost'),
    tempsLeftByKills: sum('tempsLeftByKills'),
    tempsAfterConverge: sum('tempsAfterConverge'),
    killPoints: sum('killPoints'),
    killPointsHit: sum('killPointsHit'),
    fileStates,
    seconds: Math.max(...parts.map((p) => p.seconds)),
    failures: parts.flatMap((p) => p.failures),
  };
}
