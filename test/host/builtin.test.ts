import test from 'ava';
import * as crypto from 'node:crypto';
import { nodeCrypto } from '../../src/host/builtin.js';
import { sha256, sha256Bytes } from '../../src/controls/managed.js';

test('node:crypto, loaded on first use, is the module itself', (t) => {
  t.is(nodeCrypto().createHash, crypto.createHash);
  t.is(nodeCrypto(), nodeCrypto());
});

test("a text's digest is remembered by the text itself: another text, even one character apart, gets its own", (t) => {
  const a = 'vm.overcommit_memory=1\n';
  const b = 'vm.overcommit_memory=0\n';
  t.is(sha256(a), crypto.createHash('sha256').update(a).digest('hex'));
  t.is(sha256(b), crypto.createHash('sha256').update(b).digest('hex'));
  t.is(sha256(a), crypto.createHash('sha256').update(a).digest('hex'));
  // Past the bound the memory is cleared, never wrong.
  for (let i = 0; i < 200; i++) t.is(sha256(`${i}`), crypto.createHash('sha256').update(`${i}`).digest('hex'));
  t.is(sha256Bytes(Buffer.from('grüße')), sha256('grüße'));
});
