#!/usr/bin/env node
/**
 * Bundles the command into dist/cli.js with esbuild: one CommonJS file to read and compile at
 * start-up instead of a graph of ES modules (the ES module loader and the ES facades of Node's
 * built-in modules cost a measurable share of a run that lasts little more than Node's own start).
 * The libraries needed only sometimes (yaml to parse a configuration file, execa to start
 * sysctl, systeminformation, diff for plan) are bundled apart into dist/lib/*.cjs and required
 * only when used. Type checking is tsc's job: npm run build runs it first.
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist');
export const LAZY = ['yaml', 'execa', 'systeminformation', 'diff'];
/** Imported statically (parsing and writing YAML is synchronous), yet loaded at first use. */
const ON_FIRST_USE = ['yaml'];

const common = { absWorkingDir: repo, bundle: true, format: 'cjs', platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
// The package is "type": "module"; the bundle is CommonJS.
writeFileSync(path.join(dist, 'package.json'), '{ "type": "commonjs" }\n');
for (const name of LAZY) {
  await build({ ...common, entryPoints: [name], outfile: path.join(dist, 'lib', `${name}.cjs`) });
}
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: path.join(dist, 'cli.js'),
  plugins: [
    {
      name: 'lazy-libraries',
      setup(b) {
        const filter = new RegExp(`^(${LAZY.join('|')})$`);
        b.onResolve({ filter }, (args) =>
          ON_FIRST_USE.includes(args.path) ? { path: args.path, namespace: 'on-first-use' } : { path: `./lib/${args.path}.cjs`, external: true },
        );
        b.onResolve({ filter: /^\.\/lib\/[a-z]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
        // A stand-in whose exports are getters: the library is required when a property is first
        // read (a call to stringify or parseDocument), not when the importing module loads.
        b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, async (args) => {
          const names = Object.keys(await import(args.path)).filter((n) => n !== 'default');
          return {
            loader: 'js',
            contents: `let lib;\nconst load = () => (lib ??= require('./lib/${args.path}.cjs'));\n` +
              `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });\n`,
          };
        });
      },
    },
  ],
});
