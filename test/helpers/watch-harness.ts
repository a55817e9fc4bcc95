/**
 * Runs watch cycles back to back on this host, as the watch daemon would run them, and measures
 * their CPU time and memory: the tests' memory check and scripts/bench's cycle figure. Run inside
 * a sandbox as `node build/test/helpers/watch-harness.js CYCLES`; prints the figures as JSON.
 * The daemon itself has no such mode.
 */
import { defaultConfig, DEFAULT_CONFIG_PATH } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';
import { CONTROLS } from '../../src/controls/index.js';
import type { Context } from '../../src/controls/types.js';
import { NodeHost } from '../../src/host/node-host.js';
import { chooseK3sVersion } from '../../src/k3s/choose.js';
import { chooseRole } from '../../src/role.js';
import { WatchCycle } from '../../src/watch/cycle.js';

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export interface CycleStats {
  cycles: number;
  /** Cycles whose check was given again from the one before (src/watch/cycle.ts). */
  replayed: number;
  /** CPU time (user + system) per cycle after warm-up, in microseconds. */
  cpuMicrosPerCycle: number;
  /** After warm-up and at the end; after a garbage collection when node runs with --expose-gc. */
  warm: MemorySample;
  end: MemorySample;
}

function memory(): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

/** Runs the cycles; the first fifth (at most 1000) is warm-up and is not counted. */
export async function runCycles(cycle: Pick<WatchCycle, 'run' | 'replayed'>, count: number): Promise<CycleStats> {
  const warmAt = Math.min(1000, Math.floor(count / 5));
  let warm = memory();
  let cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    if (i === warmAt) {
      warm = memory();
      cpu = process.cpuUsage();
    }
    await cycle.run();
  }
  const used = process.cpuUsage(cpu);
  return { cycles: count, replayed: cycle.replayed, cpuMicrosPerCycle: (used.user + used.system) / Math.max(1, count - warmAt), warm, end: memory() };
}

/** The context the command builds on a live host: the configuration file, the role, the K3s version. */
export async function liveContext(): Promise<{ ctx: Context; roleChoice: ReturnType<typeof chooseRole> }> {
  const host = new NodeHost('/');
  const text = host.readText(DEFAULT_CONFIG_PATH);
  const config = text === null ? defaultConfig() : parseConfig(text, DEFAULT_CONFIG_PATH);
  const roleChoice = chooseRole(host, undefined, config.role, config.source);
  const k3s = await chooseK3sVersion(host, undefined, config, process.env.INSTALL_K3S_VERSION);
  return { ctx: { host, config, role: roleChoice.role, force: false, k3s }, roleChoice };
}

// node watch-harness.js CYCLES [--full | --replay]: --full checks in full at every cycle; by default an unchanged check is given again.
if (process.argv[1]?.endsWith('watch-harness.js')) {
  const count = Number(process.argv[2] ?? 1000);
  const replay = process.argv[3] !== '--full';
  const { ctx, roleChoice } = await liveContext();
  const cycle = new WatchCycle({ ctx, roleChoice, controls: CONTROLS, remediate: false, log: (text) => process.stderr.write(text), prefix: false, replay });
  process.stdout.write(`${JSON.stringify(await runCycles(cycle, count))}\n`);
}
