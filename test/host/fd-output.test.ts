import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fdOutput } from '../../src/host/fd-output.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

test('writes the whole text, however short each write(2) is, in order', (t) => {
  const got: Buffer[] = [];
  const out = fdOutput(7, ((fd: number, bytes: Uint8Array) => {
    t.is(fd, 7);
    const n = Math.min(3, bytes.length);
    got.push(Buffer.from(bytes.subarray(0, n)));
    return n;
  }) as typeof fs.writeSync);
  t.true(out.write('grüße, k3s\n') as boolean);
  t.is(Buffer.concat(got).toString('utf8'), 'grüße, k3s\n');
});

test('a full non-blocking descriptor (EAGAIN) is waited on, and nothing is lost', (t) => {
  let calls = 0;
  const got: string[] = [];
  const out = fdOutput(1, ((_fd: number, bytes: Uint8Array) => {
    calls++;
    if (calls % 2 === 1) throw errno('EAGAIN');
    got.push(Buffer.from(bytes).toString());
    return bytes.length;
  }) as typeof fs.writeSync);
  out.write('report\n');
  t.deepEqual(got, ['report\n']);
  t.is(calls, 2);
});

test('a reader that went away (EPIPE) ends the output quietly; any other error is thrown', (t) => {
  let calls = 0;
  const out = fdOutput(1, (() => {
    calls++;
    throw errno('EPIPE');
  }) as typeof fs.writeSync);
  t.false(out.write('a') as boolean);
  t.false(out.write('b') as boolean);
  t.is(calls, 1, 'nothing more is tried after EPIPE');
  const broken = fdOutput(1, (() => {
    throw errno('EIO');
  }) as typeof fs.writeSync);
  t.throws(() => broken.write('a'), { message: 'EIO' });
});

test('writes to a real descriptor', (t) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-fd-')), 'out');
  const fd = fs.openSync(file, 'w');
  fdOutput(fd).write('one\n');
  fdOutput(fd).write('two\n');
  fs.closeSync(fd);
  t.is(fs.readFileSync(file, 'utf8'), 'one\ntwo\n');
  fs.rmSync(path.dirname(file), { recursive: true });
});
