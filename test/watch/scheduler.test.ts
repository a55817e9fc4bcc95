/** The scheduler alone: fake directories and a fake cycle, no root, no inotify. */
import test from 'ava';
import type { Stats } from 'node:fs';
import type { DirectoryWatch } from '../../src/host/host.js';
import { Scheduler } from '../../src/watch/scheduler.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for what must happen (generously: the machine may be busy); what must not happen is checked after short sleeps. */
async function until(condition: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

interface FakeWatch {
  dir: string;
  onChange: (name: string | null) => void;
  onError: (error: Error) => void;
  closed: boolean;
}

/** Directories by path with their inode; every watch made, open or closed. */
class FakeHost {
  readonly dirs = new Map<string, number>();
  readonly watches: FakeWatch[] = [];
  readonly refuse = new Map<string, string>();

  stat(p: string): Stats | null {
    const ino = this.dirs.get(p);
    return ino === undefined ? null : ({ ino, isDirectory: () => true } as Stats);
  }

  watchDirectory(dir: string, onChange: (name: string | null) => void, onError: (error: Error) => void): DirectoryWatch {
    const refused = this.refuse.get(dir);
    if (refused) throw new Error(refused);
    const w: FakeWatch = { dir, onChange, onError, closed: false };
    this.watches.push(w);
    return {
      close: () => {
        w.closed = true;
      },
    };
  }

  open(dir: string): FakeWatch[] {
    return this.watches.filter((w) => w.dir === dir && !w.closed);
  }

  event(dir: string, name: string | null): void {
    for (const w of this.open(dir)) w.onChange(name);
  }
}

function setup(options: { intervalMs?: number; debounceMs?: number; cycleMs?: number; paths?: string[]; refuse?: Record<string, string> } = {}) {
  const host = new FakeHost();
  for (const [dir, why] of Object.entries(options.refuse ?? {})) host.refuse.set(dir, why);
  host.dirs.set('/', 1).set('/etc', 2).set('/etc/sysctl.d', 3);
  const controller = new AbortController();
  const cycles: number[] = [];
  const problems: Array<[string, string | null]> = [];
  let running = 0;
  const scheduler = new Scheduler({
    host,
    paths: options.paths ?? ['/etc/sysctl.d', '/etc/sysctl.conf'],
    intervalMs: options.intervalMs ?? 10_000,
    debounceMs: options.debounceMs ?? 30,
    signal: controller.signal,
    watchProblem: (dir, problem) => problems.push([dir, problem]),
    cycle: async () => {
      running++;
      cycles.push(Date.now());
      await sleep(options.cycleMs ?? 1);
      running--;
    },
  });
  const done = scheduler.run();
  return { host, controller, cycles, problems, scheduler, done, running: () => running };
}

test('one cycle at start, then one per interval', async (t) => {
  const s = setup({ intervalMs: 40 });
  t.true(await until(() => s.cycles.length >= 3));
  s.controller.abort();
  await s.done;
  const gaps = s.cycles.slice(1).map((c, i) => c - s.cycles[i]!);
  t.true(
    gaps.every((g) => g >= 35),
    `gaps ${gaps.join(', ')} ms`,
  );
});

test('a relevant file event runs a cycle after the debounce; events meanwhile join it; other names are ignored', async (t) => {
  const s = setup();
  t.true(await until(() => s.cycles.length === 1 && s.running() === 0));
  t.is(s.host.open('/etc/sysctl.d').length, 1, 'a directory of drop-ins is watched itself');
  t.is(s.host.open('/etc').length, 1, 'a file through its parent');

  s.host.event('/etc', 'passwd');
  await sleep(60);
  t.is(s.cycles.length, 1, 'an entry no control names changes nothing');

  const at = Date.now();
  s.host.event('/etc/sysctl.d', '99-tuning.conf');
  s.host.event('/etc', 'sysctl.conf');
  s.host.event('/etc/sysctl.d', null);
  await sleep(10);
  t.is(s.cycles.length, 1, 'not before the debounce');
  t.true(await until(() => s.cycles.length === 2));
  await sleep(60);
  t.is(s.cycles.length, 2, 'three events, one cycle');
  t.true(s.cycles[1]! - at >= 25, 'after the debounce');
  s.controller.abort();
  await s.done;
});

test('an event during a cycle runs one more cycle after it', async (t) => {
  const s = setup({ cycleMs: 60 });
  t.true(await until(() => s.running() === 1));
  s.host.event('/etc/sysctl.d', 'a.conf');
  s.host.event('/etc/sysctl.d', 'b.conf');
  t.true(await until(() => s.cycles.length === 2 && s.running() === 0));
  await sleep(100);
  t.is(s.cycles.length, 2);
  t.is(s.running(), 0, 'never two at once');
  s.controller.abort();
  await s.done;
});

test('stop waits for the cycle in flight, starts nothing new and closes every watch', async (t) => {
  const s = setup({ cycleMs: 80, intervalMs: 1 });
  t.true(await until(() => s.running() === 1));
  s.host.event('/etc/sysctl.d', 'x.conf');
  s.controller.abort();
  await s.done;
  t.is(s.running(), 0, 'run() resolved only after the cycle finished');
  await sleep(40);
  t.is(s.cycles.length, 1, 'nothing ran after the stop');
  t.true(s.host.watches.every((w) => w.closed));
});

test('after each cycle the watches follow the tree: a directory that appears, is replaced or breaks', async (t) => {
  const s = setup({ intervalMs: 30, paths: ['/etc/rancher/k3s/config.yaml.d'] });
  await sleep(10);
  t.deepEqual(
    s.host.watches.map((w) => w.dir),
    ['/etc'],
    'the nearest existing ancestor',
  );
  s.host.dirs.set('/etc/rancher', 4).set('/etc/rancher/k3s', 5).set('/etc/rancher/k3s/config.yaml.d', 6);
  t.true(await until(() => s.host.open('/etc/rancher/k3s/config.yaml.d').length === 1), 'the directory itself once it exists');
  t.is(s.host.open('/etc').length, 0, 'the ancestor watch is closed');

  s.host.dirs.set('/etc/rancher/k3s/config.yaml.d', 7);
  t.true(await until(() => s.host.watches.filter((w) => w.dir === '/etc/rancher/k3s/config.yaml.d').length === 2));
  const now = s.host.watches.filter((w) => w.dir === '/etc/rancher/k3s/config.yaml.d');
  t.is(now.length, 2, 'a replaced directory (another inode) is watched anew');
  t.true(now[0]!.closed && !now[1]!.closed);

  now[1]!.onError(new Error('IN_IGNORED'));
  t.true(await until(() => s.host.watches.filter((w) => w.dir === '/etc/rancher/k3s/config.yaml.d').length === 3), 'a broken watch is dropped, then re-armed');
  s.controller.abort();
  await s.done;
});

test('a directory that cannot be watched is reported, the interval goes on, and it is watched once it can be', async (t) => {
  const t2 = setup({ intervalMs: 20, refuse: { '/etc/sysctl.d': 'ENOSPC: inotify watch limit reached' } });
  t.true(await until(() => t2.cycles.length >= 2), 'the interval goes on');
  t.deepEqual(t2.problems.filter(([d, p]) => d === '/etc/sysctl.d' && p !== null).map(([, p]) => p)[0], 'ENOSPC: inotify watch limit reached');
  t2.host.refuse.clear();
  t.true(await until(() => t2.problems.at(-1)?.[1] === null));
  t.deepEqual(t2.problems.at(-1), ['/etc/sysctl.d', null]);
  t.is(t2.host.open('/etc/sysctl.d').length, 1);
  t2.controller.abort();
  await t2.done;
});
