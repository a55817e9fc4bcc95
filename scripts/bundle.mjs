#!/usr/bin/env node
/**
 * Bundles the command with esbuild into CommonJS (no ES module loader, no ES facades of Node's
 * built-in modules: a measurable share of a run that lasts little more than Node's own start):
 *
 *   dist/cli.js        a small loader: compiles dist/main.cjs with V8's code cache when it has one
 *   dist/main.cjs      the entry (src/cli.ts): replays the last run when nothing it read has
 *                      changed (src/replay/), else loads the command
 *   dist/command.cjs   the command (src/main.ts and everything under it), loaded the same way
 *   dist/lib/*.cjs     libraries needed only sometimes (yaml, execa, systeminformation, diff),
 *                      each loaded, through the same loader, when one of its exports is first used
 *   dist/lib/rows/*.cjs the rows of each kube-bench benchmark (src/k3s/benchmarks/k3s-cis-*.ts),
 *                      one chunk per benchmark holding them as one JSON text (V8 parses JSON
 *                      faster and smaller than the same object literal), loaded the same way:
 *                      a run reads the rows of the one benchmark it judges with
 *   *.v8cache          V8 code caches written here by a representative run (check of an offline
 *                      --root, and one process started through execa, as `k3s --version` is; as
 *                      root, also the runs of a live node in a sandbox: liveCaches below);
 *                      a cache V8 rejects (another Node version) is ignored, never wrong
 *
 * `node scripts/bundle.mjs --sea-main FILE` writes the single executable's main script instead
 * (scripts/build-sea): the same loader over the executable's assets, which are these files.
 *
 * Type checking is tsc's job: npm run build runs it first.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist');
const LAZY = ['yaml', 'execa', 'systeminformation', 'diff'];
const BENCHMARKS_DIR = path.join(repo, 'src/k3s/benchmarks');
const ROW_FILES = readdirSync(BENCHMARKS_DIR)
  .filter((f) => /^k3s-cis-[0-9.]+\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ''));

/**
 * Loads a CommonJS file like require() does, with its V8 code cache when there is one. `read`
 * and `readCache` are expressions of `file`: the file system for dist/cli.js, the executable's
 * assets for the single executable, so both run the same bundle the same way.
 */
const loader = ({ read, readCache, writeCache }) => `function loadCached(file) {
  const vm = require('node:vm'), Module = require('node:module');
  const source = ${read}.replace(/^#!.*/, '');
  let cachedData;
  try { cachedData = ${readCache}; } catch { cachedData = undefined; }
  // import() of a built-in module (node:sea) keeps working inside the compiled code.
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData, ...(importModuleDynamically ? { importModuleDynamically } : {}) });
  const module = { exports: {} };
  // For the tests and the benchmark: what is loaded, and whether V8 took its code cache.
  if (process.env.K3S_HOSTPREP_TRACE_LOAD === '1') process.stderr.write('LOADED ' + file + (cachedData === undefined ? ' (no code cache)' : script.cachedDataRejected ? ' (code cache rejected)' : ' (code cache taken)') + '\\n');
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, require('node:path').dirname(file));
  ${writeCache}
  return module.exports;
}`;

const FILE_LOADER = loader({
  read: "require('node:fs').readFileSync(file, 'utf8')",
  readCache: "require('node:fs').readFileSync(file + '.v8cache')",
  writeCache:
    "if (process.env.K3S_HOSTPREP_WRITE_CODE_CACHE === '1') process.once('exit', () => require('node:fs').writeFileSync(file + '.v8cache', script.createCachedData()));",
});

/**
 * The single executable's main script (scripts/build-sea): dist/main.cjs, dist/lib/*.cjs and their
 * code caches are its assets, named by their path below dist/; the files live at /$sea/ as far as
 * the bundle can tell. A single executable embeds one script only, so this loader stands in for
 * dist/cli.js and the lazily loaded libraries stay lazy.
 */
const SEA_MAIN = `'use strict';
${loader({
  read: "require('node:sea').getAsset(require('node:path').relative('/$sea', file), 'utf8')",
  readCache: "Buffer.from(require('node:sea').getAsset(require('node:path').relative('/$sea', file) + '.v8cache'))",
  writeCache: '',
})}
globalThis.__k3sHostprepLoad = loadCached;
loadCached('/$sea/main.cjs');
`;

if (process.argv[2] === '--sea-main') {
  writeFileSync(process.argv[3], SEA_MAIN);
  process.exit(0);
}

const common = { absWorkingDir: repo, bundle: true, format: 'cjs', platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
// The package is "type": "module"; the bundle is CommonJS.
writeFileSync(path.join(dist, 'package.json'), '{ "type": "commonjs" }\n');
// The libraries are minified: less to read, compile and hold, in dist/ and in the single
// executable, which keeps all of them in memory-mapped pages. Their stack traces are theirs.
for (const name of LAZY) {
  await build({ ...common, entryPoints: [name], outfile: path.join(dist, 'lib', `${name}.cjs`), minify: true });
}
// Each benchmark's rows: built on their own, evaluated here, written as one JSON text per export.
const scratch = mkdtempSync(path.join(tmpdir(), 'k3s-hostprep-rows-'));
try {
  mkdirSync(path.join(dist, 'lib', 'rows'), { recursive: true });
  for (const name of ROW_FILES) {
    const built = path.join(scratch, `${name}.cjs`);
    await build({ ...common, entryPoints: [path.join(BENCHMARKS_DIR, `${name}.ts`)], outfile: built });
    const rows = createRequire(built)(built);
    const body = Object.entries(rows)
      .map(([key, value]) => `exports.${key} = JSON.parse(${JSON.stringify(JSON.stringify(value))});\n`)
      .join('');
    writeFileSync(path.join(dist, 'lib', 'rows', `${name}.cjs`), `'use strict';\n${body}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** A stand-in whose exports are getters: `file` (below dist/) is loaded when one of `names` is first read. */
const onFirstUse = (file, names) =>
  `let lib;\nconst load = () => (lib ??= (globalThis.__k3sHostprepLoad ?? require)(require('node:path').join(__dirname, ${JSON.stringify(file)})));\n` +
  `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });\n`;

/** The plugins both parts of the command are built with. */
const lazyPlugin = {
  name: 'on-first-use',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${LAZY.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'on-first-use' }));
    // A stand-in whose exports are getters: the library is loaded when a property is first
    // read (a call to stringify, execa, ...), not when the importing module loads.
    b.onLoad({ filter: /.*/, namespace: 'on-first-use' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((n) => n !== 'default');
      return { loader: 'js', contents: onFirstUse(`lib/${args.path}.cjs`, names) };
    });
    // The benchmarks' rows, imported by src/k3s/benchmarks/index.ts only.
    b.onResolve({ filter: /^\.\/k3s-cis-[0-9.]+\.js$/ }, (args) =>
      path.resolve(args.resolveDir) === BENCHMARKS_DIR ? { path: path.basename(args.path, '.js'), namespace: 'rows' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'rows' }, (args) => {
      const names = Object.keys(createRequire(import.meta.url)(path.join(dist, 'lib', 'rows', `${args.path}.cjs`)));
      return { loader: 'js', contents: onFirstUse(`lib/rows/${args.path}.cjs`, names) };
    });
  },
};

/** src/cli.ts's import of ./main.js: the command, loaded only when the last run is not replayed. */
const commandPlugin = {
  name: 'command-on-first-use',
  setup(b) {
    b.onResolve({ filter: /^\.\/main\.js$/ }, (args) =>
      args.importer === path.join(repo, 'src/cli.ts') ? { path: 'command', namespace: 'command' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'command' }, () => ({ loader: 'js', contents: onFirstUse('command.cjs', ['main']) }));
  },
};

// One value for this build, in both parts: a run remembered by one build is never replayed by
// another (src/replay/last-run.ts).
const define = { K3S_HOSTPREP_BUILD: JSON.stringify(`${JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version}+${randomUUID()}`) };
const parts = { 'command.cjs': 'src/main.ts', 'main.cjs': 'src/cli.ts' };
for (const [out, entry] of Object.entries(parts)) {
  await build({
    ...common,
    entryPoints: [entry],
    outfile: path.join(dist, out),
    minifyWhitespace: true,
    minifySyntax: true,
    define,
    plugins: [lazyPlugin, commandPlugin],
  });
}
// `import * as fs from 'node:fs'` becomes __toESM(require('node:fs'), 1) in CommonJS: a copy of
// every export of the module as a getter, made at load time for each importing file (8 times
// fs's ~100 exports, 21 times path's). The modules are Node's own and no file imports a default
// from one, so each is required as it is.
for (const out of Object.keys(parts)) {
  const file = path.join(dist, out);
  let text = readFileSync(file, 'utf8');
  text = text.replace(/([\w$]+)=__toESM\(require\("(node:[a-z_/]+)"\),1\)/g, (_, name, id) => {
    if (new RegExp(`[^\\w$.]${name.replace(/\$/g, '\\$')}\\.default\\b`).test(text))
      throw new Error(`bundle: ${name} (${id}) is used through .default; keep its __toESM`);
    return `${name}=require("${id}")`;
  });
  writeFileSync(file, text);
}
writeFileSync(
  path.join(dist, 'cli.js'),
  `#!/usr/bin/env node\n'use strict';\n${FILE_LOADER}\nglobalThis.__k3sHostprepLoad = loadCached;\nloadCached(require('node:path').join(__dirname, 'main.cjs'));\n`,
  { mode: 0o755 },
);

// The code caches: a check of an offline root runs the paths a boot runs and touches nothing
// outside that directory. The root holds a k3s-hostprep configuration and a K3s config.yaml, so
// that the YAML parser, which only they need, runs and gets its cache too.
const root = mkdtempSync(path.join(tmpdir(), 'k3s-hostprep-cache-'));
try {
  mkdirSync(path.join(root, 'etc/k3s-hostprep'), { recursive: true });
  mkdirSync(path.join(root, 'etc/rancher/k3s'), { recursive: true });
  writeFileSync(path.join(root, 'etc/k3s-hostprep/config.yaml'), 'role: server\nnetworkPolicy:\n  namespaces: [kube-system, default]\n');
  writeFileSync(path.join(root, 'etc/rancher/k3s/config.yaml'), 'write-kubeconfig-mode: "0600"\nkube-apiserver-arg:\n  - request-timeout=300s\n');
  spawnSync(process.execPath, [path.join(dist, 'cli.js'), 'check', '--root', root, '--k3s-version', 'v1.30'], {
    env: { ...process.env, K3S_HOSTPREP_WRITE_CODE_CACHE: '1' },
    stdio: 'ignore',
  });
  // execa runs `k3s --version` on a node with K3s installed (no offline root does): its cache
  // comes from starting one process through it, as that probe does.
  const probe = `${FILE_LOADER}\nloadCached(${JSON.stringify(path.join(dist, 'lib/execa.cjs'))}).execa(process.execPath, ['--version'], { timeout: 10000, reject: false }).then(() => {});`;
  spawnSync(process.execPath, ['-e', probe], { env: { ...process.env, K3S_HOSTPREP_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
  // Each benchmark's rows (the check above read one benchmark's only).
  const rows = `${FILE_LOADER}\nfor (const name of ${JSON.stringify(ROW_FILES)}) loadCached(require('node:path').join(${JSON.stringify(path.join(dist, 'lib/rows'))}, name + '.cjs'));`;
  spawnSync(process.execPath, ['-e', rows], { env: { ...process.env, K3S_HOSTPREP_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
} finally {
  rmSync(root, { recursive: true, force: true });
}

/**
 * As root, where a private mount namespace can be made (CI, a release build), the caches of the
 * entry and the command are written again by the runs a live node makes, in the tests' sandbox
 * (scripts/sandbox-mounts.sh: fake /proc/sys, throw-away /etc, /var/lib and /run; this machine's
 * kernel and files are never touched): a converged server checked once (its run kept), then
 * checked again with a kernel value's text changed but not its value ("25000000" for
 * "25000000\n"), so that one run looks for a run to replay and compares every fact, runs the
 * command in full, notes what it reads and keeps its run. An offline --root run does none of
 * that, and a function V8 has not compiled is not in a cache. Elsewhere the caches above stay.
 */
function liveCaches() {
  if (process.getuid?.() !== 0 || spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status !== 0) return;
  const S = mkdtempSync(path.join(tmpdir(), 'k3s-hostprep-cache-live-'));
  try {
    for (const d of ['proc-sys', 'etc-upper', 'etc-work', 'etc-sysctl.d', 'var-lib', 'run', 'vendor-sysctl.d']) mkdirSync(path.join(S, d));
    writeFileSync(path.join(S, 'sysctl.conf'), '');
    const kernel = {
      'vm/panic_on_oom': '0',
      'vm/overcommit_memory': '1',
      'kernel/panic': '10',
      'kernel/panic_on_oops': '1',
      'kernel/keys/root_maxkeys': '1000000',
      'kernel/keys/root_maxbytes': '25000000',
    };
    for (const [key, value] of Object.entries(kernel)) {
      mkdirSync(path.dirname(path.join(S, 'proc-sys', key)), { recursive: true });
      writeFileSync(path.join(S, 'proc-sys', key), `${value}\n`);
    }
    mkdirSync(path.join(S, 'etc-upper/k3s-hostprep'), { recursive: true });
    mkdirSync(path.join(S, 'etc-upper/rancher/k3s'), { recursive: true });
    writeFileSync(path.join(S, 'etc-upper/k3s-hostprep/config.yaml'), 'role: server\n', { mode: 0o600 });
    writeFileSync(path.join(S, 'etc-upper/rancher/k3s/config.yaml'), 'write-kubeconfig-mode: "0600"\n', { mode: 0o600 });
    const cli = path.join(dist, 'cli.js');
    const script = `set -e
. "${path.join(repo, 'scripts/sandbox-mounts.sh')}"
cd /
"$NODE" "${cli}" apply >/dev/null 2>&1 || true
sleep 1.2
"$NODE" "${cli}" check >/dev/null 2>&1 || true
printf 25000000 > /proc/sys/kernel/keys/root_maxbytes
K3S_HOSTPREP_WRITE_CODE_CACHE=1 "$NODE" "${cli}" check >/dev/null 2>&1 || true
`;
    spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script], {
      env: { ...process.env, S, NODE: process.execPath },
      stdio: 'ignore',
      timeout: 60_000,
    });
  } finally {
    rmSync(S, { recursive: true, force: true });
  }
}
liveCaches();
