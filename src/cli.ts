#!/usr/bin/env node
/**
 * The executable's entry: replays the last run of this command line when nothing it learnt from
 * the machine has changed (src/replay/last-run.ts), else runs main() (src/main.ts) with this
 * process's arguments and streams. The bundle loads main() and everything under it only then.
 */
import { fdOutput } from './host/fd-output.js';
import { NodeHost } from './host/node-host.js';
import { replayLastRun } from './replay/last-run.js';

// No top-level await: the single executable (scripts/build-sea) runs this file as CommonJS.
// Descriptors, not process.stdout/stderr: see src/host/fd-output.ts.
const argv = process.argv.slice(2);
const out = fdOutput(1);
const err = fdOutput(2);
const trace = process.env.K3S_HOSTPREP_TRACE_REPLAY === '1' ? err : null;
const replayed = replayLastRun(argv, out, err, new NodeHost('/'), undefined, trace);
if (replayed !== null) process.exitCode = replayed;
else
  void import('./main.js')
    .then(({ main }) => main(argv, out, err))
    .then((code) => {
      process.exitCode = code;
    });
