#!/usr/bin/env node
/** The executable's entry: runs main() (src/main.ts) with this process's arguments and streams. */
import { main } from './main.js';

// No top-level await: the single executable (scripts/build-sea) runs this file as CommonJS.
void main(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
  process.exitCode = code;
});
