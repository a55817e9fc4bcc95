/**
 * Watch cycles on this host, one after each step of a scripted drift, with what each cycle did:
 * whether its check was given again from the cycle before (src/watch/cycle.ts) and what it
 * found. Run inside a sandbox, on a converged server whose files are older than the racy margin:
 * `node build/test/helpers/watch-replay-probe.js`; prints one JSON line per cycle.
 */
import * as fs from 'node:fs';
import { CONTROLS } from '../../src/controls/index.js';
import { WatchCycle } from '../../src/watch/cycle.js';
import { liveContext } from './watch-harness.js';

export interface ProbeStep {
  step: string;
  replayed: boolean;
  exitCode: number;
  failing: number;
}

const AUDIT = '/var/lib/rancher/k3s/server/audit.yaml';
const PANIC = '/proc/sys/kernel/panic';

export const STEPS: Array<[string, () => void]> = [
  ['first', () => {}],
  ['nothing changed', () => {}],
  ['kernel.panic set to 1', () => fs.writeFileSync(PANIC, '1\n')],
  ['nothing changed since the drift', () => {}],
  ['kernel.panic back to 10', () => fs.writeFileSync(PANIC, '10\n')],
  ['audit.yaml made readable by all', () => fs.chmodSync(AUDIT, 0o644)],
  ['audit.yaml back to 0600', () => fs.chmodSync(AUDIT, 0o600)],
];

if (process.argv[1]?.endsWith('watch-replay-probe.js')) {
  const { ctx, roleChoice } = await liveContext();
  const cycle = new WatchCycle({ ctx, roleChoice, controls: CONTROLS, remediate: false, log: () => {}, prefix: false });
  for (const [step, act] of STEPS) {
    act();
    const before = cycle.replayed;
    const report = await cycle.run();
    const line: ProbeStep = { step, replayed: cycle.replayed > before, exitCode: report.exitCode, failing: cycle.failing() };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
