/**
 * Races that really race: a separate process exchanges a directory with a symlink
 * (renameat2 RENAME_EXCHANGE) as fast as it can while k3s-hostprep writes, creates and changes
 * modes, over and over. The file layer walks every path from directories it holds open, with
 * O_NOFOLLOW, and changes modes through descriptors: not one write or chmod may land outside.
 * Each test prints how many operations raced against how many exchanges. The last one races a
 * run that is being recorded for replay (src/replay/): nothing it read may be swapped under it.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import tmp from 'tmp';
import { NodeHost } from '../../src/host/node-host.js';
import { RecordingHost } from '../../src/replay/recording-host.js';
import { startSwapper } from '../helpers/swapper.js';
import { CLI, isRoot } from '../helpers/sandbox.js';

const it = isRoot() ? test.serial : test.skip;
const RACE_MS = 3000;

function base(): string {
  return tmp.dirSync({ prefix: 'k3s-hostprep-race-', unsafeCleanup: true }).name;
}

/** Every entry under a directory, relative. */
function everything(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d)) {
      const full = path.join(d, name);
      out.push(path.relative(dir, full));
      if (fs.lstatSync(full).isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

it('--root: img/etc exchanged with a link to a directory outside while files are written: no write escapes', async (t) => {
  const b = base();
  const img = path.join(b, 'img');
  const outside = path.join(b, 'outside');
  fs.mkdirSync(path.join(img, 'etc/sysctl.d'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(outside, 'sysctl.d'), { recursive: true, mode: 0o755 });
  // What the owner of an image directory would do: an absolute link to this machine's /etc, swapped in and out.
  fs.symlinkSync(outside, path.join(img, 'etc-swap'));
  const host = new NodeHost(img);
  const swapper = await startSwapper(path.join(img, 'etc'), path.join(img, 'etc-swap'));
  let writes = 0;
  let refused = 0;
  const end = Date.now() + RACE_MS;
  while (Date.now() < end) {
    writes++;
    try {
      host.writeFileAtomic('/etc/sysctl.d/90-kubelet.conf', 'vm.overcommit_memory=1\n', { mode: 0o600, uid: 0, gid: 0 });
      host.chmod('/etc/sysctl.d/90-kubelet.conf', 0o600);
    } catch {
      refused++; // the link was there at that moment: resolved inside the image, where nothing exists
    }
  }
  const swaps = await swapper.stop();
  const escaped = everything(outside).filter((n) => n !== 'sysctl.d');
  t.log(`${writes} writes raced against ${swaps} exchanges (${refused} met the link and were refused); escapes: ${escaped.length}`);
  t.true(swaps > 100, `the swapper ran (${swaps} exchanges)`);
  t.true(writes > 100 && writes - refused > 10, 'writes ran, and some got through to the image');
  t.deepEqual(escaped, []);
});

it('apply --root, run again and again while img/etc is exchanged with a link outside: nothing is written outside', async (t) => {
  const b = base();
  const img = path.join(b, 'img');
  const outside = path.join(b, 'outside');
  fs.mkdirSync(path.join(img, 'etc/sysctl.d'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(img, 'var/lib'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(outside, 'sysctl.d'), { recursive: true, mode: 0o755 });
  fs.symlinkSync(outside, path.join(img, 'etc-swap'));
  const swapper = await startSwapper(path.join(img, 'etc'), path.join(img, 'etc-swap'));
  const runs = 8;
  const codes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await execa(process.execPath, [CLI, 'apply', '--root', img, '--k3s-version', 'v1.30'], { reject: false, stdin: 'ignore' });
    codes.push(r.exitCode ?? -1);
  }
  const swaps = await swapper.stop();
  const escaped = everything(outside).filter((n) => n !== 'sysctl.d');
  t.log(`${runs} apply runs raced against ${swaps} exchanges (exit codes ${codes.join(' ')}); escapes: ${escaped.length}`);
  t.true(swaps > 100);
  t.deepEqual(escaped, []);
});

it('mkdir then mode: the new directory exchanged with a link to a 0600 file: the file keeps its mode', async (t) => {
  const b = base();
  fs.mkdirSync(path.join(b, 'd'), { mode: 0o755 });
  const secret = path.join(b, 'shadow');
  fs.writeFileSync(secret, 'root:*:1::::::\n', { mode: 0o600 });
  fs.chmodSync(secret, 0o600);
  const a = path.join(b, 'd/metrics');
  const link = path.join(b, 'd/swap');
  fs.symlinkSync(secret, link);
  const host = new NodeHost(b, false);
  const swapper = await startSwapper(a, link);
  let runs = 0;
  let created = 0;
  const end = Date.now() + RACE_MS;
  while (Date.now() < end) {
    runs++;
    try {
      host.mkdir('/d/metrics', 0o755);
      created++;
    } catch {
      /* the link was in place at the moment of opening: refused, nothing changed */
    }
    // Back to the start: nothing at the new name, the link beside it.
    for (const p of [a, link]) {
      try {
        const st = fs.lstatSync(p);
        if (st.isDirectory()) fs.rmdirSync(p);
        else fs.unlinkSync(p);
      } catch {
        /* moved meanwhile */
      }
    }
    try {
      fs.symlinkSync(secret, link);
    } catch {
      /* the swapper moved something back meanwhile */
    }
  }
  const swaps = await swapper.stop();
  const mode = fs.statSync(secret).mode & 0o7777;
  t.log(
    `${runs} mkdir+mode runs (${created} created) raced against ${swaps} exchanges; the 0600 file's mode after: ${mode.toString(8)}; escapes: ${mode === 0o600 ? 0 : 1}`,
  );
  t.true(swaps > 100);
  t.true(created > 10);
  t.is(mode, 0o600);
});

it('a run is never kept with what it read swapped under it: a config exchanged with another while runs are recorded', async (t) => {
  const b = base();
  const file = path.join(b, 'config.yaml');
  const other = path.join(b, 'config.yaml-swap');
  fs.writeFileSync(file, 'role: server\n', { mode: 0o600 });
  fs.writeFileSync(other, 'role: agent\n', { mode: 0o600 });
  // Each text's inode: whichever name it is found under, the inode goes with the text.
  const inodeOf = new Map([
    ['role: server\n', String(fs.statSync(file).ino)],
    ['role: agent\n', String(fs.statSync(other).ino)],
  ]);
  const machine = new NodeHost('/');
  const swapper = await startSwapper(file, other);
  let runs = 0;
  let kept = 0;
  let wrong = 0;
  let swaps = 0;
  try {
    const end = Date.now() + RACE_MS;
    while (Date.now() < end) {
      runs++;
      // A run that started an hour from now: every change time is older than the racy margin, so
      // only the rule under test (the entries taken before the read must hold at the end) can refuse.
      const host = new RecordingHost(machine, () => Date.now() + 3_600_000);
      const text = host.readText(file, { trust: false });
      const learnt = host.finish();
      // Each run its own stretch: the host forgets the directories it held (as between two runs).
      await new Promise((r) => setImmediate(r));
      if ('why' in learnt) continue;
      kept++;
      // What the kept run says it read must be the file whose text it read.
      const entry = learnt.entries.find(([p]) => p === file)?.[1] ?? '';
      if (entry.split(':')[1] !== inodeOf.get(text ?? '')) wrong++;
    }
  } finally {
    swaps = await swapper.stop();
  }
  t.log(`${runs} recorded runs raced against ${swaps} exchanges (${kept} kept); escapes: ${wrong}`);
  t.true(swaps > 100, `the swapper ran (${swaps} exchanges)`);
  t.true(runs > 100);
  t.is(wrong, 0, 'no run was kept with entries of a file other than the one it read');
});
