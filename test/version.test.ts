import test from 'ava';
import fs from 'fs-extra';
import * as path from 'node:path';
import { VERSION } from '../src/version.js';
import { REPO } from './helpers/sandbox.js';

test('the version in the code is the package version', (t) => {
  t.is(VERSION, fs.readJsonSync(path.join(REPO, 'package.json')).version);
});
