/** Every malformed configuration of the corpus is rejected in-process with the expected message (the CLI run is in reliability/bad-config). */
import test from 'ava';
import * as fs from 'node:fs';
import { decodeConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { badConfigs } from '../helpers/corpus.js';

test('the corpus holds at least 50 malformed configurations, each with its expected message', (t) => {
  const corpus = badConfigs();
  t.true(corpus.length >= 50, `${corpus.length} configurations`);
  for (const c of corpus) t.true(c.expect.length > 5, c.name);
});

for (const c of badConfigs()) {
  test(`rejected: ${c.name}`, (t) => {
    const error = t.throws(() => parseConfig(decodeConfig(fs.readFileSync(c.file), c.file), c.file), { instanceOf: ConfigError });
    t.true(error!.message.startsWith(`${c.file}: `), 'the message names the file');
    t.true(error!.message.includes(c.expect), `expected "${c.expect}" in:\n${error!.message}`);
  });
}
