/**
 * Bad configuration through the built command: every file of the corpus (and a few that cannot
 * be committed: a huge file, a FIFO, a device, a directory) makes apply exit 2 with a message
 * that names the file and the key, and not one byte is written anywhere.
 */
import test from 'ava';
import fs from 'fs-extra';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { isRoot } from '../helpers/sandbox.js';
import { badConfigs } from '../helpers/corpus.js';
import { applyEach } from '../helpers/bad-config-run.js';

const it = isRoot() ? test : test.skip;

it('every malformed configuration exits 2 through the CLI, names the file and the key, and writes nothing', async (t) => {
  const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'k3s-hostprep-bad-'));
  const huge = path.join(extra, 'huge.yaml');
  fs.writeFileSync(huge, `role: server\n${'# padding padding padding padding padding padding padding\n'.repeat(20_000)}`);
  const fifo = path.join(extra, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  const generated = [
    { name: 'huge', file: huge, expect: `the configuration file is ${fs.statSync(huge).size} bytes; the limit is 1048576 bytes (1 MiB)` },
    { name: 'fifo', file: fifo, expect: 'cannot read the configuration file: not a regular file' },
    { name: 'device', file: '/dev/zero', expect: 'cannot read the configuration file: not a regular file' },
    { name: 'directory', file: extra, expect: 'cannot read the configuration file: not a regular file' },
    { name: 'missing', file: path.join(extra, 'missing.yaml'), expect: 'cannot read the configuration file: ENOENT' },
  ];
  const all = [...badConfigs(), ...generated];
  const result = await applyEach(all.map((c) => c.file));
  for (const [i, c] of all.entries()) {
    const run = result.runs[i]!;
    t.is(run.exitCode, 2, `${c.name}: ${run.stderr}`);
    t.true(run.stderr.startsWith(`k3s-hostprep: ${c.file}: `), `${c.name} names the file: ${run.stderr}`);
    t.true(run.stderr.includes(c.expect), `${c.name}: expected "${c.expect}" in ${run.stderr}`);
    t.notRegex(run.stderr, /unexpected failure| {4}at /, `${c.name}: no stack trace`);
  }
  t.deepEqual(result.written, [], 'nothing was written by any of them');
  t.log(`${all.length} configurations rejected with exit 2, nothing written`);
  fs.rmSync(extra, { recursive: true, force: true });
});
