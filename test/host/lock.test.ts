import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRunLock, findFlock } from '../../src/host/lock.js';
import { HostError } from '../../src/errors.js';

const it = findFlock() ? test : test.skip;

it('a second holder of the same root is refused at once with --wait 0, and gets it after release', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-lock-'));
  const first = await acquireRunLock({ root, waitSeconds: 0 });
  t.is(first.path, root);
  const error = await t.throwsAsync(acquireRunLock({ root, waitSeconds: 0 }), { instanceOf: HostError });
  t.is(error!.message, `another run holds the lock on ${root}; waited 0s (--wait SECONDS to wait longer)`);
  t.is(error!.exitCode, 3);
  first.release();
  first.release();
  const second = await acquireRunLock({ root, waitSeconds: 0 });
  second.release();
  t.deepEqual(fs.readdirSync(root), [], 'locking a root writes nothing into it');
});

it('a bounded wait: the refusal comes after about --wait seconds', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-lock-'));
  const first = await acquireRunLock({ root, waitSeconds: 0 });
  const start = Date.now();
  await t.throwsAsync(acquireRunLock({ root, waitSeconds: 0.5 }), { message: /another run holds the lock.*waited 0\.5s/ });
  const waited = Date.now() - start;
  t.true(waited >= 400 && waited < 3000, `${waited} ms`);
  first.release();
});

test('without flock(1) the lock is a host error, not a silent pass', async (t) => {
  await t.throwsAsync(acquireRunLock({ root: os.tmpdir(), waitSeconds: 0, flock: null }), {
    instanceOf: HostError,
    message: /flock\(1\) from util-linux was not found/,
  });
});
