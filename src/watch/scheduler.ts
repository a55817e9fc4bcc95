/**
 * When the watch runs a cycle: at start, an interval after the last one, and a short debounce
 * after a file event under the watched paths (events meanwhile join it; an event during a cycle
 * runs one more after it). After every cycle the directory watches are re-armed, so a directory
 * that appeared, vanished or was replaced is watched as it is now. Watches go through the Host.
 * Stopping (the signal) starts nothing new and waits for the cycle in flight.
 */
import type { DirectoryWatch, Host } from '../host/host.js';
import { planWatches, relevant } from './targets.js';

export interface SchedulerOptions {
  host: Pick<Host, 'stat' | 'watchDirectory'>;
  /** Paths whose change should bring the next cycle forward. */
  paths: readonly string[];
  intervalMs: number;
  /** How long after a file event the cycle runs. */
  debounceMs: number;
  /** One cycle; it reports its own failures (a rejection is dropped: the schedule goes on). */
  cycle: () => Promise<void>;
  signal: AbortSignal;
  /** A directory that cannot be watched (problem), or can again (null). */
  watchProblem?: (dir: string, problem: string | null) => void;
}

interface Armed {
  watch: DirectoryWatch;
  ino: number | undefined;
  names: Set<string> | null;
}

export class Scheduler {
  private readonly dirs = new Map<string, Armed>();
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | null = null;
  private again = false;

  constructor(private readonly options: SchedulerOptions) {}

  /** Directories watched now. */
  get watching(): number {
    return this.dirs.size;
  }

  /** Arms the watches without running anything (to say what is watched before the first cycle). */
  arm(): void {
    this.rearm();
  }

  /** Arms the watches, runs a cycle at once, and goes on until the signal aborts; then waits for the cycle in flight and closes every watch. */
  async run(): Promise<void> {
    const { signal } = this.options;
    if (signal.aborted) return this.close();
    this.rearm();
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.tick();
    await stopped;
    clearTimeout(this.timer);
    clearTimeout(this.debounce);
    await this.inFlight;
    this.close();
  }

  private close(): void {
    for (const d of this.dirs.values()) d.watch.close();
    this.dirs.clear();
  }

  private onEvent(dir: string, name: string | null): void {
    if (this.options.signal.aborted || !relevant(this.dirs.get(dir)?.names ?? null, name)) return;
    if (this.inFlight) this.again = true;
    else if (!this.debounce) this.debounce = setTimeout(() => this.tick(), this.options.debounceMs);
  }

  private tick(): void {
    if (this.options.signal.aborted || this.inFlight) return;
    clearTimeout(this.debounce);
    this.debounce = undefined;
    clearTimeout(this.timer);
    this.inFlight = this.options
      .cycle()
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = null;
        this.afterCycle();
      });
  }

  private afterCycle(): void {
    if (this.options.signal.aborted) return;
    this.rearm();
    if (this.again) {
      this.again = false;
      this.debounce = setTimeout(() => this.tick(), this.options.debounceMs);
    }
    this.timer = setTimeout(() => this.tick(), this.options.intervalMs);
  }

  private isDir(p: string): boolean {
    try {
      return this.options.host.stat(p)?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }

  private ino(p: string): number | undefined {
    try {
      return this.options.host.stat(p)?.ino;
    } catch {
      return undefined;
    }
  }

  /** Watches what exists now; a directory that appeared, vanished or was replaced is re-armed. */
  private rearm(): void {
    const { host } = this.options;
    const plan = planWatches(this.options.paths, (p) => this.isDir(p));
    for (const [dir, armed] of this.dirs) {
      if (!plan.has(dir) || this.ino(dir) !== armed.ino) {
        armed.watch.close();
        this.dirs.delete(dir);
      }
    }
    for (const [dir, names] of plan) {
      const existing = this.dirs.get(dir);
      if (existing) {
        existing.names = names;
        continue;
      }
      try {
        const watch = host.watchDirectory(
          dir,
          (name) => this.onEvent(dir, name),
          () => {
            this.dirs.get(dir)?.watch.close();
            this.dirs.delete(dir);
          },
        );
        this.dirs.set(dir, { watch, ino: this.ino(dir), names });
        this.options.watchProblem?.(dir, null);
      } catch (error) {
        this.options.watchProblem?.(dir, error instanceof Error ? error.message : String(error));
      }
    }
  }
}
