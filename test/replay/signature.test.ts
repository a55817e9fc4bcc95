import test from 'ava';
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import tmp from 'tmp';
import { attributesOf, changeTimeNs, entryOf, firstChanged, observePath, type Entries } from '../../src/replay/signature.js';

const isRoot = process.geteuid?.() === 0;

/** A directory tree under a fresh temporary directory: dir/, dir/file, dir/listed/, a link to the file. */
function tree(): { root: string; file: string; dir: string; listed: string; link: string } {
  const root = tmp.dirSync({ prefix: 'k3s-hostprep-signature-', unsafeCleanup: true }).name;
  const dir = path.join(root, 'dir');
  fs.mkdirSync(path.join(dir, 'listed'), { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'file'), 'value: 1\n', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'other'), 'value: 2\n', { mode: 0o600 });
  fs.symlinkSync('file', path.join(dir, 'link'));
  return { root, file: path.join(dir, 'file'), dir, listed: path.join(dir, 'listed'), link: path.join(dir, 'link') };
}

/** The entries a run reading these paths would keep. */
function observe(...paths: string[]): Entries {
  const entries: Entries = new Map();
  for (const p of paths) observePath(p, entries);
  return entries;
}

test('every component gets an entry: passed-through directories by owner and mode, the last one and every link in full', (t) => {
  const { file, dir, link } = tree();
  const entries = observe(link);
  t.regex(entries.get('/')!, /^d:/);
  t.regex(entries.get(dir)!, /^d:40755:/, 'a directory passed through');
  t.regex(entries.get(link)!, /^f:\d+:120777:/, 'the link itself, in full');
  t.regex(entries.get(file)!, /^f:\d+:100600:/, 'where it leads, in full');
  t.is(observePath(path.join(dir, 'missing', 'deeper'), entries), null);
  t.is(entries.get(path.join(dir, 'missing')), 'm', 'what is missing is noted as missing, and the walk stops there');
  t.false(entries.has(path.join(dir, 'missing', 'deeper')));
  t.is(firstChanged(entries), null, 'nothing changed: every entry holds');
});

/** Each change a run must see, made after the entries were taken. */
const CHANGES: Array<{ name: string; observed: (x: ReturnType<typeof tree>) => string; change: (x: ReturnType<typeof tree>) => void; root?: boolean }> = [
  { name: 'the same number of bytes written again', observed: (x) => x.file, change: (x) => fs.writeFileSync(x.file, 'value: 9\n') },
  {
    name: 'written again, then given its old modification time back',
    observed: (x) => x.file,
    change: (x) => {
      const { atime, mtime } = fs.statSync(x.file);
      fs.writeFileSync(x.file, 'value: 9\n');
      fs.utimesSync(x.file, atime, mtime);
    },
  },
  { name: 'a chmod', observed: (x) => x.file, change: (x) => fs.chmodSync(x.file, 0o644) },
  { name: 'a chown', observed: (x) => x.file, change: (x) => fs.chownSync(x.file, 65534, 65534), root: true },
  {
    name: 'replaced by a copy with the same bytes, mode and times',
    observed: (x) => x.file,
    change: (x) => {
      const { atime, mtime } = fs.statSync(x.file);
      fs.copyFileSync(x.file, `${x.file}.new`);
      fs.chmodSync(`${x.file}.new`, 0o600);
      fs.utimesSync(`${x.file}.new`, atime, mtime);
      fs.renameSync(`${x.file}.new`, x.file);
    },
  },
  {
    name: 'a link pointed elsewhere',
    observed: (x) => x.link,
    change: (x) => {
      fs.unlinkSync(x.link);
      fs.symlinkSync('other', x.link);
    },
  },
  { name: 'a name added to a directory read as a whole', observed: (x) => x.listed, change: (x) => fs.writeFileSync(path.join(x.listed, 'new.conf'), '') },
  {
    name: 'something made where nothing was',
    observed: (x) => path.join(x.dir, 'absent.conf'),
    change: (x) => fs.writeFileSync(path.join(x.dir, 'absent.conf'), ''),
  },
  { name: 'a directory on the way made group-writable', observed: (x) => x.file, change: (x) => fs.chmodSync(x.dir, 0o775) },
  { name: 'a directory on the way given to another user', observed: (x) => x.file, change: (x) => fs.chownSync(x.dir, 65534, 0), root: true },
  {
    name: 'a directory on the way replaced by a link to another one',
    observed: (x) => x.file,
    change: (x) => {
      fs.renameSync(x.dir, `${x.dir}.old`);
      fs.mkdirSync(`${x.dir}.elsewhere`, { mode: 0o755 });
      fs.writeFileSync(path.join(`${x.dir}.elsewhere`, 'file'), 'value: 1\n', { mode: 0o600 });
      fs.symlinkSync(`${x.dir}.elsewhere`, x.dir);
    },
  },
];

for (const c of CHANGES) {
  (c.root && !isRoot ? test.skip : test)(`seen: ${c.name}`, (t) => {
    const x = tree();
    const entries = observe(c.observed(x));
    t.is(firstChanged(entries), null);
    c.change(x);
    t.not(firstChanged(entries), null);
  });
}

test('not a change: a name added to a directory only passed through (what is read below it has its own entry)', (t) => {
  const x = tree();
  const entries = observe(x.file);
  fs.writeFileSync(path.join(x.dir, 'unrelated'), '');
  t.is(firstChanged(entries), null);
});

test('a directory whose ACL the trust rule reads (root-owned, group write bits) carries its change time, which an ACL change moves', (t) => {
  const x = tree();
  fs.chmodSync(x.dir, 0o775);
  const entries = observe(x.file);
  t.regex(entries.get(x.dir)!, isRoot ? /^d:40775:0:\d+:\d+$/ : /^d:40775:\d+:\d+$/);
  t.regex(entries.get('/tmp')!, /^d:41777:0:0$/, 'a world-writable one is judged by its mode alone');
  t.is(changeTimeNs(entries.get(x.file)!), fs.statSync(x.file, { bigint: true }).ctimeNs);
  t.is(changeTimeNs(entries.get(x.dir)!), null, 'only full entries are held to the racy rule');
});

test('entryOf answers as the walk does', (t) => {
  const x = tree();
  const entries = observe(x.file);
  t.is(entryOf(x.file, 'f'), entries.get(x.file)!);
  t.is(entryOf(x.dir, 'd'), entries.get(x.dir)!);
  t.is(entryOf(path.join(x.dir, 'nothing'), 'f'), 'm');
  t.regex(entryOf(x.file, 'd'), /^f:/, 'a file where a directory was is a full entry, which no directory entry equals');
  t.is(entryOf(path.join(x.file, 'below'), 'f'), 'm', 'below a file (ENOTDIR) is nothing, not an exception');
});

test('a path recorded missing below a directory that became a file: the change is seen, nothing throws', (t) => {
  const x = tree();
  const entries = observe(path.join(x.listed, 'absent', 'deeper'));
  t.is(entries.get(path.join(x.listed, 'absent')), 'm');
  fs.rmSync(x.listed, { recursive: true });
  fs.writeFileSync(x.listed, 'now a file\n');
  t.regex(firstChanged(entries) ?? '', /listed: /);
});

/** The paths lstat(2) is asked for while `act` runs (node:fs patched where signature.ts calls it). */
function lstatsDuring(act: () => void): string[] {
  const cjs = createRequire(import.meta.url)('node:fs') as { lstatSync: typeof fs.lstatSync };
  const original = cjs.lstatSync;
  const asked: string[] = [];
  cjs.lstatSync = ((file: fs.PathLike, options?: fs.StatSyncOptions) => {
    asked.push(String(file));
    return original(file, options);
  }) as typeof fs.lstatSync;
  syncBuiltinESMExports();
  try {
    act();
  } finally {
    cjs.lstatSync = original;
    syncBuiltinESMExports();
  }
  return asked;
}

test.serial('each component is asked once in a run: "/" and every directory for fifty paths, a missing directory for every path under it', (t) => {
  const { dir, file } = tree();
  const entries: Entries = new Map();
  const missing = path.join(dir, 'missing');
  const asked = lstatsDuring(() => {
    for (let i = 0; i < 50; i++) {
      observePath(file, entries);
      t.is(observePath(path.join(missing, `child-${i}`), entries), null);
    }
  });
  t.is(asked.filter((p) => p === '/').length, 1, '"/" once');
  t.is(asked.filter((p) => p === dir).length, 1, 'a directory on the way once');
  t.is(asked.filter((p) => p === missing).length, 1, 'a missing directory once');
  t.false(
    asked.some((p) => p.startsWith(`${missing}/`)),
    'nothing below what is missing',
  );
  t.is(entries.get(missing), 'm');
  t.is(firstChanged(entries), null);
});

test.serial('the first answer stands: a directory that appears during the run is not walked into, and the end of the run sees it', (t) => {
  const { dir } = tree();
  const entries: Entries = new Map();
  const appeared = path.join(dir, 'appeared');
  t.is(observePath(path.join(appeared, 'a'), entries), null);
  fs.mkdirSync(appeared);
  fs.writeFileSync(path.join(appeared, 'b'), 'x');
  t.is(observePath(path.join(appeared, 'b'), entries), null, 'still missing for this run');
  t.false(entries.has(path.join(appeared, 'b')));
  t.regex(firstChanged(entries) ?? '', /appeared: m -> f:/, 'the run is not kept');
});

test('an "a" entry: the same after the contents are written again, changed by a chmod, a chown or a change of kind', (t) => {
  const { file, dir } = tree();
  const entries: Entries = new Map([[file, entryOf(file, 'a')]]);
  t.regex(entries.get(file)!, /^a:100600:\d+:\d+$/);
  fs.writeFileSync(file, 'value: 1\n');
  fs.writeFileSync(file, 'another value, another size\n');
  t.is(firstChanged(entries), null, 'contents written again: the same kind, mode and owner');
  fs.chmodSync(file, 0o644);
  t.regex(firstChanged(entries) ?? '', /a:100600:.* -> a:100644:/);
  fs.chmodSync(file, 0o600);
  t.is(firstChanged(entries), null);
  fs.rmSync(file);
  fs.mkdirSync(file, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  t.regex(firstChanged(entries) ?? '', /-> a:40600:/, 'a directory where the file was');
  if (isRoot) {
    const other = path.join(dir, 'other');
    const owned: Entries = new Map([[other, entryOf(other, 'a')]]);
    fs.chownSync(other, 65534, 65534);
    t.regex(firstChanged(owned) ?? '', /-> a:100600:65534:65534$/);
  }
});

test('attributesOf narrows a full entry to the "a" entry of the same path, with the change time where the trust rule reads an ACL', (t) => {
  const { file } = tree();
  const full = observe(file).get(file)!;
  t.regex(full, /^f:/);
  t.is(attributesOf(full), entryOf(file, 'a'));
  t.is(attributesOf('m'), 'm');
  t.is(attributesOf('d:40755:0:0'), 'd:40755:0:0');
  t.is(attributesOf('f:12:100660:0:0:5:100:200'), 'a:100660:0:0:200', 'root-owned and group-writable: the ACL is read, its changes move the change time');
  t.is(attributesOf('f:12:100660:0:5:5:100:200'), 'a:100660:0:5:200');
  t.is(attributesOf('f:12:100662:0:0:5:100:200'), 'a:100662:0:0', 'world-writable: refused whatever its ACL says');
  t.is(attributesOf('f:12:100600:1000:0:5:100:200'), 'a:100600:1000:0');
});
