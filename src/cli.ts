#!/usr/bin/env node
/** The executable's entry: runs main() (src/main.ts) with this process's arguments and streams. */
import { fdOutput } from './host/fd-output.js';
import { main } from './main.js';

// No top-level await: the single executable (scripts/build-sea) runs this file as CommonJS.
// Descriptors, not process.stdout/stderr: see src/host/fd-output.ts.
void main(process.argv.slice(2), fdOutput(1), fdOutput(2)).then((code) => {
  process.exitCode = code;
});
