#!/usr/bin/env node
/**
 * Bundles the command into dist/cli.js with esbuild: one file to read and compile at start-up
 * instead of a module graph. What is needed only sometimes (execa to start sysctl,
 * systeminformation, diff for plan) stays behind a dynamic import() and lands in its own chunk,
 * loaded only when used. Type checking is tsc's job (npm run build runs it first).
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
rmSync(path.join(repo, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: repo,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS packages (systeminformation, fs-extra) call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __k3sCreateRequire } from 'node:module'; const require = __k3sCreateRequire(import.meta.url);" },
  legalComments: 'linked',
  logLevel: 'warning',
});
