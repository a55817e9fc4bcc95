/** The corpus of malformed configuration files in test/fixtures/bad-config: NN-name.yaml and the message fragment expected for it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './sandbox.js';

export const CORPUS_DIR = path.join(REPO, 'test/fixtures/bad-config');

export interface BadConfig {
  name: string;
  file: string;
  expect: string;
}

export function badConfigs(): BadConfig[] {
  return fs
    .readdirSync(CORPUS_DIR)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((n) => ({
      name: n.slice(0, -5),
      file: path.join(CORPUS_DIR, n),
      expect: fs.readFileSync(path.join(CORPUS_DIR, `${n.slice(0, -5)}.expect`), 'utf8').replace(/\n$/, ''),
    }));
}
