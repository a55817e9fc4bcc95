import test from 'ava';
import * as fs from 'node:fs';
import { journalStream } from '../../src/host/journal-stream.js';

const fd2 = fs.fstatSync(2);

test('standard error is the journal only when JOURNAL_STREAM names its device and inode', (t) => {
  t.false(journalStream({}), 'no JOURNAL_STREAM: not under systemd');
  t.false(journalStream({ JOURNAL_STREAM: '' }));
  t.true(journalStream({ JOURNAL_STREAM: `${fd2.dev}:${fd2.ino}` }), 'the stream itself');
  t.false(journalStream({ JOURNAL_STREAM: `${fd2.dev}:${fd2.ino + 1}` }), 'another stream (standard error redirected away from the journal)');
  t.false(journalStream({ JOURNAL_STREAM: 'not a stream' }));
});
