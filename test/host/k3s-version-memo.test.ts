import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { identityOf, memoText, recall } from '../../src/host/k3s-version-memo.js';

const OUTPUT = 'k3s version v1.30.4+k3s1 (98262b5d)\ngo version go1.22.5\n';

test('a memo is recalled for the same binary only: a rewrite, a replacement or a touch makes it ask again', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-memo-'));
  const bin = path.join(dir, 'k3s');
  fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  const id = identityOf(bin, fs.statSync(bin, { bigint: true }));
  const memo = memoText(id, OUTPUT);
  t.is(recall(memo, identityOf(bin, fs.statSync(bin, { bigint: true }))), OUTPUT);
  // Rewritten in place, same size: the change time moves.
  fs.writeFileSync(bin, '#!/bin/bash\n'.slice(0, 10), { mode: 0o755 });
  t.is(recall(memo, identityOf(bin, fs.statSync(bin, { bigint: true }))), null);
  // Replaced by another file with the old times set back: another inode (or change time).
  fs.writeFileSync(`${bin}.new`, '#!/bin/sh\n', { mode: 0o755 });
  fs.utimesSync(`${bin}.new`, fs.statSync(bin).atime, new Date(Number(BigInt(id.mtimeNs) / 1_000_000n)));
  fs.renameSync(`${bin}.new`, bin);
  t.is(recall(memo, identityOf(bin, fs.statSync(bin, { bigint: true }))), null);
  // Another path to the same file is another memo.
  t.is(recall(memo, { ...id, file: '/usr/local/bin/k3s' }), null);
  fs.rmSync(dir, { recursive: true });
});

test('a memo that is missing, not JSON, or without an output is no memo', (t) => {
  const id = { file: '/usr/local/bin/k3s', dev: '1', ino: '2', size: '3', mtimeNs: '4', ctimeNs: '5' };
  t.is(recall(null, id), null);
  t.is(recall('{', id), null);
  t.is(recall('null', id), null);
  t.is(recall(JSON.stringify({ ...id }), id), null);
  t.is(recall(JSON.stringify({ ...id, stdout: 7 }), id), null);
  t.is(recall(JSON.stringify({ ...id, ino: 2, stdout: OUTPUT }), id), null, 'numbers are not the identity');
  t.is(recall(memoText(id, OUTPUT), id), OUTPUT);
});
