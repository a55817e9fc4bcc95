/** validate: the configuration alone, nothing else read or written; 0 valid, 2 invalid with the usual message. */
import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import tmp from 'tmp';
import { main } from '../../src/main.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const stream = (add: (s: string) => void) =>
    ({
      write: (s: string) => {
        add(s);
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main(
    argv,
    stream((s) => (out += s)),
    stream((s) => (err += s)),
  );
  return { code, out, err };
}

test('validate --config: exit 0 for a valid file, 2 with the file, the key and a suggestion for an invalid one', async (t) => {
  const dir = tmp.dirSync({ unsafeCleanup: true }).name;
  const good = path.join(dir, 'good.yaml');
  fs.writeFileSync(good, 'role: agent\nsysctl:\n  net.ipv4.ip_forward: 1\n');
  t.deepEqual(await run('validate', '--config', good), { code: 0, out: `${good}: valid\n`, err: '' });
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'role: agent\naudit:\n  logMaxAge: 5\n  polcy: {}\n');
  const r = await run('validate', '--config', bad);
  t.is(r.code, 2);
  t.is(r.out, '');
  t.regex(r.err, new RegExp(`^k3s-hostprep: ${bad.replace(/[/.]/g, '\\$&')}: `));
  t.regex(r.err, /audit\.polcy: unknown key \(did you mean "policy"\?\)/);
  t.regex(r.err, /audit\.logMaxAge/);
  const missing = await run('validate', '--config', path.join(dir, 'none.yaml'));
  t.is(missing.code, 2);
  t.regex(missing.err, /none\.yaml: cannot read the configuration file: ENOENT/);
});

test('validate takes only --config', async (t) => {
  const r = await run('validate', '--root', '/');
  t.is(r.code, 2);
  t.is(r.err, 'k3s-hostprep: validate does not take --root (see k3s-hostprep validate --help)\n');
});
