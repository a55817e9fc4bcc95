import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import tmp from 'tmp';
import type { HostFacts, ProcessResult } from '../../src/host/host.js';
import { NodeHost } from '../../src/host/node-host.js';
import { RACY_MARGIN_NS, RecordingHost } from '../../src/replay/recording-host.js';

/** The running system's host for reads of temporary files; its kernel, programs and facts are stand-ins. */
class Machine extends NodeHost {
  readonly kernel = new Map([['vm.overcommit_memory', '1\n']]);
  constructor() {
    super('/');
  }
  override readSysctl(key: string): string {
    return this.kernel.get(key) ?? '';
  }
  override async run(command: string): Promise<ProcessResult> {
    return { command, exitCode: 0, stdout: '', stderr: '', ended: 'exit', why: 'exited 0' };
  }
  override async runSysctl(): Promise<ProcessResult> {
    return this.run('sysctl');
  }
  override sysctlUnwritable(): string | null {
    return null;
  }
  override async facts(): Promise<HostFacts> {
    return { distribution: 'Test', kernel: os.release(), hostname: os.hostname() };
  }
}

/** A file written a while ago, as the files of a converged node are. */
function oldFile(): string {
  const dir = tmp.dirSync({ prefix: 'k3s-hostprep-recording-', unsafeCleanup: true }).name;
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, 'role: server\n', { mode: 0o600 });
  return file;
}

/** A run that started this long after now: its files are that much older than it. */
const later = (ms: number) => () => Date.now() + ms;

test('a run that only read files, kernel values and facts is learnt whole', async (t) => {
  const file = oldFile();
  const host = new RecordingHost(new Machine(), later(5_000));
  t.is(host.readText(file), 'role: server\n');
  t.is(host.readSysctl('vm.overcommit_memory'), '1\n');
  await host.facts();
  const learnt = host.finish();
  if ('why' in learnt) return t.fail(learnt.why);
  t.true(learnt.entries.some(([p, e]) => p === file && e.startsWith('f:')));
  t.deepEqual(learnt.sysctls, [['vm.overcommit_memory', '1\n']]);
  t.deepEqual(learnt.facts, { kernel: os.release(), hostname: os.hostname() });
});

/** Each thing a run may do that cannot be checked again cheaply, and what finish() says. */
const REFUSED: Array<[string, (h: RecordingHost, file: string) => unknown, RegExp]> = [
  ['runs a program', (h) => h.run('systemctl', ['is-active', 'k3s']), /it ran systemctl/],
  ['runs sysctl', (h) => h.runSysctl(['-p']), /it ran sysctl/],
  ['asks whether /proc/sys may be written', (h) => h.sysctlUnwritable('vm.overcommit_memory'), /\/proc\/sys may be written/],
  ['reads under /proc', (h) => h.readText('/proc/k3s-hostprep-none'), /it read \/proc\/k3s-hostprep-none/],
  ['reads under /sys', (h) => h.lstat('/sys/k3s-hostprep-none'), /it read \/sys\/k3s-hostprep-none/],
  ['writes a file', (h, file) => h.writeFileAtomic(file, 'x', { mode: 0o600, uid: 0, gid: 0 }), /changed the host/],
  ['changes a mode', (h, file) => h.chmod(file, 0o600), /changed the host/],
  [
    'watches a directory',
    (h, file) =>
      h
        .watchDirectory(
          path.dirname(file),
          () => {},
          () => {},
        )
        .close(),
    /watched a directory/,
  ],
];

for (const [name, act, why] of REFUSED) {
  test(`not learnt: a run that ${name}`, async (t) => {
    const file = oldFile();
    const host = new RecordingHost(new Machine(), later(5_000));
    host.readText(file);
    await act(host, file);
    const learnt = host.finish();
    t.true('why' in learnt);
    t.regex((learnt as { why: string }).why, why);
  });
}

test('not learnt: a file that changed during the run', (t) => {
  const file = oldFile();
  const host = new RecordingHost(new Machine(), later(5_000));
  host.readText(file);
  fs.writeFileSync(file, 'role: agent\n');
  const learnt = host.finish();
  t.regex((learnt as { why: string }).why, /changed during the run: .*config\.yaml/);
});

test('not learnt: a kernel value that changed during the run', (t) => {
  const machine = new Machine();
  const host = new RecordingHost(machine, later(5_000));
  host.readSysctl('vm.overcommit_memory');
  machine.kernel.set('vm.overcommit_memory', '0\n');
  host.readSysctl('vm.overcommit_memory');
  t.regex((host.finish() as { why: string }).why, /vm\.overcommit_memory changed during the run/);
});

test('not learnt: a file changed less than the racy margin before the run started (its change time could be shared by a later change)', (t) => {
  const file = oldFile();
  const margin = Number(RACY_MARGIN_NS / 1_000_000n);
  const racy = new RecordingHost(new Machine(), later(margin / 2));
  racy.readText(file);
  t.regex((racy.finish() as { why: string }).why, /changed too recently .*config\.yaml/);
  const settled = new RecordingHost(new Machine(), later(margin + 500));
  settled.readText(file);
  t.false('why' in settled.finish());
});

test('not learnt: an offline root (--root), whose paths are not this machine’s', (t) => {
  const root = tmp.dirSync({ prefix: 'k3s-hostprep-recording-root-', unsafeCleanup: true }).name;
  const host = new RecordingHost(new NodeHost(root), later(5_000));
  t.regex((host.finish() as { why: string }).why, /not the running system/);
});

test('state files are not inputs: the run reads and writes them without a note', (t) => {
  const host = new RecordingHost(new Machine(), later(5_000));
  host.readState(oldFile());
  const learnt = host.finish();
  if ('why' in learnt) return t.fail(learnt.why);
  t.deepEqual(learnt.entries, []);
});

/** The entry a learnt run keeps for a path. */
function entryFor(learnt: ReturnType<RecordingHost['finish']>, file: string): string | undefined {
  if ('why' in learnt) throw new Error(learnt.why);
  return learnt.entries.find(([p]) => p === file)?.[1];
}

test('a path only stat’ed for its kind, mode and owner is kept by them alone ("a"): K3s writing its contents again changes nothing learnt', (t) => {
  const file = oldFile();
  const host = new RecordingHost(new Machine(), later(5_000));
  const st = host.stat(file)!;
  t.true(st.isFile());
  t.is(st.mode & 0o777, 0o600);
  t.is(st.uid, fs.statSync(file).uid);
  t.is(st.gid, fs.statSync(file).gid);
  const entry = entryFor(host.finish(), file);
  t.is(entry, `a:${(fs.statSync(file).mode).toString(8)}:${fs.statSync(file).uid}:${fs.statSync(file).gid}`);
});

test('kept in full: a path whose size, times or inode the run looked at, or whose contents it read', (t) => {
  const looks: Array<[string, (h: RecordingHost, file: string) => unknown]> = [
    ['its size', (h, f) => h.lstat(f)!.size],
    ['its modification time', (h, f) => h.stat(f)!.mtimeMs],
    ['its inode', (h, f) => h.stat(f)!.ino],
    ['all of it (a copy)', (h, f) => ({ ...h.stat(f)! })],
    ['its contents, after a stat of its mode', (h, f) => [h.stat(f)!.mode, h.readText(f)]],
    ['its contents, before a stat of its mode', (h, f) => [h.readText(f), h.stat(f)!.mode]],
  ];
  for (const [what, look] of looks) {
    const file = oldFile();
    const host = new RecordingHost(new Machine(), later(5_000));
    look(host, file);
    t.regex(entryFor(host.finish(), file) ?? '', /^f:/, what);
  }
});

test('a link stat’ed without following it is kept in full, and so is where it leads', (t) => {
  const file = oldFile();
  const link = `${file}.link`;
  fs.symlinkSync(file, link);
  const host = new RecordingHost(new Machine(), later(5_000));
  t.true(host.lstat(link)!.isSymbolicLink());
  const learnt = host.finish();
  t.regex(entryFor(learnt, link) ?? '', /^f:\d+:120777:/);
  t.regex(entryFor(learnt, file) ?? '', /^f:/);
});

test('an "a" entry has no racy window: it compares mode and owner, not times', (t) => {
  const file = oldFile();
  const host = new RecordingHost(new Machine(), later(Number(RACY_MARGIN_NS / 1_000_000n) / 2));
  host.stat(file)!.isFile();
  t.regex(entryFor(host.finish(), file) ?? '', /^a:/);
});
