import test from 'ava';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { DIGEST_MEMO, keepDigests, recallDigests } from '../../src/controls/digest-memo.js';
import { renderManaged, sha256 } from '../../src/controls/managed.js';
import { MAX_STATE_BYTES, type Host } from '../../src/host/host.js';
import { CLI, COMPLIANT, Sandbox, isRoot } from '../helpers/sandbox.js';

const real = (text: string) => createHash('sha256').update(text).digest('hex');

/** The state-file part of a host: a map of files; live unless said otherwise. */
function stateHost(files: Record<string, string> = {}, live = true): Host & { files: Record<string, string> } {
  return {
    live,
    files,
    readState: (p: string) => files[p] ?? null,
    writeState: (p: string, text: string) => {
      files[p] = text;
    },
  } as unknown as Host & { files: Record<string, string> };
}

test('a kept digest is taken as it is, for its exact text only: that is why only root may have written it', (t) => {
  const text = 'kernel.panic=10\n# taken from the memo\n';
  const kept = 'f'.repeat(64);
  recallDigests(stateHost({ [DIGEST_MEMO]: JSON.stringify([[kept, text]]) }));
  t.is(sha256(text), kept, 'the memo is believed (the host vouches for who wrote it)');
  t.is(sha256(`${text} `), real(`${text} `), 'another text is hashed');
});

test('a memo that does not parse, or holds anything but digests and texts, gives nothing', (t) => {
  for (const [i, memo] of ['{not json', '{"a":"b"}', '[["abc","x0"]]', '[[1,"x1"]]', `[["${'a'.repeat(64)}"]]`].entries()) {
    recallDigests(stateHost({ [DIGEST_MEMO]: memo }));
    t.is(sha256(`x${i}`), real(`x${i}`), memo);
  }
});

test('what is kept: the texts k3s-hostprep renders, with their digests, never a text read from the host', (t) => {
  const host = stateHost();
  sha256('an operator file read from the host\n');
  const file = renderManaged('vm.overcommit_memory=1\n# kept\n');
  sha256(file);
  keepDigests(host);
  const kept = JSON.parse(host.files[DIGEST_MEMO]!) as Array<[string, string]>;
  t.deepEqual(
    kept.find(([, text]) => text === file),
    [real(file), file],
  );
  t.true(kept.some(([digest, text]) => text === 'vm.overcommit_memory=1\n# kept\n' && digest === real(text)));
  t.false(kept.some(([, text]) => text.startsWith('an operator file')));
  for (const [digest, text] of kept) t.is(digest, real(text));
  // Nothing new worked out since: nothing is written again.
  delete host.files[DIGEST_MEMO];
  renderManaged('vm.overcommit_memory=1\n# kept\n');
  keepDigests(host);
  t.is(host.files[DIGEST_MEMO], undefined);
});

test('under --root nothing is read or written', (t) => {
  const before = JSON.stringify([['e'.repeat(64), 'image text\n']]);
  const image = stateHost({ [DIGEST_MEMO]: before }, false);
  recallDigests(image);
  t.is(sha256('image text\n'), real('image text\n'));
  sha256(renderManaged('image body\n'));
  keepDigests(image);
  t.deepEqual(image.files, { [DIGEST_MEMO]: before });
});

test('a memo too large to be read back is not written (every apply would write it again)', (t) => {
  const host = stateHost();
  sha256(renderManaged(`${'x'.repeat(MAX_STATE_BYTES)}\n`));
  keepDigests(host);
  t.deepEqual(host.files, {});
});

const it = isRoot() ? test.serial : test.skip;

it('after apply, a check takes the digests from the memo and loads no node:crypto; a memo others could write is not believed', async (t) => {
  const s = new Sandbox({ kernel: COMPLIANT });
  const hook = s.path('crypto-hook.cjs');
  fs.writeFileSync(
    hook,
    "process.on('exit', () => process.stderr.write(process.moduleLoadList.includes('NativeModule crypto') ? 'CRYPTO\\n' : 'NO CRYPTO\\n'));\n",
  );
  t.is((await s.cli('apply')).exitCode, 0);
  const memo = s.host(DIGEST_MEMO);
  t.is(fs.statSync(memo).mode & 0o777, 0o600);
  t.is(fs.statSync(memo).uid, 0);
  // Each check in full: a run kept by the one before would be given again without reading a digest.
  s.forgetLastRuns();
  const check = await s.exec([process.execPath, '-r', hook, CLI, 'check']);
  t.is(check.exitCode, 0, check.stdout);
  t.regex(check.stderr, /^NO CRYPTO$/m);
  // Group-writable: anyone in its group could have forged it. Ignored, made again, same verdict.
  fs.chownSync(memo, 0, 65534);
  fs.chmodSync(memo, 0o620);
  s.forgetLastRuns();
  const distrusted = await s.exec([process.execPath, '-r', hook, CLI, 'check']);
  t.is(distrusted.exitCode, 0, distrusted.stdout);
  t.regex(distrusted.stderr, /^CRYPTO$/m);
  // A forged digest in a root-only memo is believed, which is what makes the trust rule the one
  // that matters: the header it renders no longer matches the file, so check fails (never passes wrongly).
  const forged = (JSON.parse(fs.readFileSync(memo, 'utf8')) as Array<[string, string]>).map(([, text]): [string, string] => ['0'.repeat(64), text]);
  fs.writeFileSync(memo, JSON.stringify(forged));
  fs.chownSync(memo, 0, 0);
  fs.chmodSync(memo, 0o600);
  t.is((await s.cli('check')).exitCode, 1);
  s.dispose();
});
