/** The one way k3s-hostprep runs a program: a result that says why it ended, a safe environment, trusted paths only. */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import tmp from 'tmp';
import { SAFE_PATH, findExecutable, runProgram } from '../../src/host/exec.js';

const sh = findExecutable('sh')!;

test('the result says how the process ended: exit code, signal, timeout, or could not start', async (t) => {
  t.truthy(sh);
  const exited = await runProgram(sh, ['-c', 'echo out; echo err >&2; exit 3']);
  t.like(exited, { ended: 'exit', exitCode: 3, stdout: 'out', stderr: 'err', why: 'exited 3' });
  const killed = await runProgram(sh, ['-c', 'kill -KILL $$']);
  t.like(killed, { ended: 'signal', signal: 'SIGKILL', why: 'killed by SIGKILL' });
  const start = Date.now();
  const slow = await runProgram(sh, ['-c', 'exec sleep 5'], { timeoutMs: 300 });
  t.like(slow, { ended: 'timeout', exitCode: 124 });
  t.true(Date.now() - start < 4000);
  t.like(await runProgram('/nonexistent/program', []), { ended: 'not-started', exitCode: 127 });
  t.like(await runProgram('sh', ['-c', 'true']), { ended: 'not-started', why: 'could not be started: sh is not an absolute path' });
});

test('children get a safe PATH and nothing else from the environment', async (t) => {
  process.env.KUBECONFIG = '/tmp/hostile';
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expands it
    const r = await runProgram(sh, ['-c', 'echo "$PATH|${KUBECONFIG-unset}"']);
    t.is(r.stdout, `${SAFE_PATH}|unset`);
  } finally {
    delete process.env.KUBECONFIG;
  }
});

test('findExecutable takes programs from the system directories only, and only when only root can change them', (t) => {
  t.regex(sh, /^\/(usr\/)?s?bin\/sh$|^\/usr\/local\/s?bin\/sh$/);
  const dir = tmp.dirSync({ unsafeCleanup: true }).name;
  const file = path.join(dir, 'tool');
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
  t.is(findExecutable('tool', [dir]), process.geteuid?.() === 0 ? file : null, 'a root-owned file in a root-owned directory');
  if (process.geteuid?.() === 0) {
    fs.chownSync(file, 65534, 65534);
    t.is(findExecutable('tool', [dir]), null, 'owned by another user');
    fs.chownSync(file, 0, 0);
    fs.chmodSync(file, 0o777);
    t.is(findExecutable('tool', [dir]), null, 'world-writable');
  }
  t.is(findExecutable('no-such-program-here'), null);
});
