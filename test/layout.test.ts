/**
 * The test tree mirrors src/: the tests of src/x/y.ts are in test/x/y.test.ts. A source file
 * without one is listed here with where it is tested instead, or as holding no logic of its own
 * (types, constants, wiring); a new source file that is neither fails this test.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * Tested through another file's tests, which import it; or, "built command", through the command run in
 * a sandbox; or, "importer", through the tests of the modules that import it (the command table).
 */
const TESTED_ELSEWHERE: Record<string, { tests: string[]; via?: 'built command' | 'importer' }> = {
  'src/artefacts.ts': { tests: ['test/systemd/units.test.ts', 'test/k3s-cli.test.ts'] },
  'src/config/defaults.ts': { tests: ['test/config/schema.test.ts'] },
  'src/controls/k3s-config.ts': { tests: ['test/controls/k3s-controls.test.ts'] },
  'src/controls/network-policy.ts': { tests: ['test/controls/k3s-controls.test.ts'] },
  'src/controls/pod-security.ts': { tests: ['test/controls/k3s-controls.test.ts'] },
  'src/commands/apply.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/commands/check.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/commands/command.ts': { tests: ['test/commands/parse.test.ts', 'test/commands/help.test.ts'], via: 'importer' },
  'src/commands/context.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/commands/index.ts': { tests: ['test/commands/parse.test.ts', 'test/commands/help.test.ts'] },
  'src/commands/install.ts': { tests: ['test/systemd/install.test.ts'], via: 'built command' },
  'src/commands/options.ts': { tests: ['test/commands/parse.test.ts'], via: 'importer' },
  'src/commands/plan.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/commands/render.ts': { tests: ['test/k3s-cli.test.ts'], via: 'built command' },
  'src/commands/report-run.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/commands/service-accounts.ts': { tests: ['test/kube/service-accounts.test.ts'], via: 'built command' },
  'src/commands/watch.ts': { tests: ['test/watch.test.ts'], via: 'built command' },
  'src/engine.ts': { tests: ['test/controls/hostile.test.ts', 'test/controls/snapshot.test.ts'] },
  'src/host/node-host.ts': { tests: ['test/host/temp-names.test.ts', 'test/host/os-release.test.ts', 'test/controls/hostile.test.ts'] },
  'src/host/paths.ts': { tests: ['test/controls/hostile.test.ts'], via: 'built command' },
  'src/k3s/benchmark.ts': { tests: ['test/k3s/settings.test.ts'] },
  'src/k3s/choose.ts': { tests: ['test/k3s/version.test.ts'] },
  'src/k3s/kubelet-sysctls.ts': { tests: ['test/controls/kernel-parameters.test.ts'] },
  'src/main.ts': { tests: ['test/commands/validate.test.ts', 'test/commands/help.test.ts'] },
  'src/k3s/node.ts': { tests: ['test/controls/k3s-controls.test.ts'], via: 'built command' },
  'src/report/diff.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/report/json.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/report/text.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/role.ts': { tests: ['test/cli.test.ts'], via: 'built command' },
  'src/watch/loop.ts': { tests: ['test/watch.test.ts'], via: 'built command' },
  'src/host/trusted-fs.ts': { tests: ['test/security/races.test.ts', 'test/security/trust.test.ts'], via: 'importer' },
  'src/report/escape.ts': { tests: ['test/security/trust.test.ts'], via: 'importer' },
  'src/sysctl/extra.ts': { tests: ['test/security/trust.test.ts'], via: 'built command' },
};

/** Types, constants and declarations: nothing to test on their own. */
const NO_LOGIC = [
  'src/controls/types.ts',
  'src/errors.ts',
  'src/host/host.ts',
  'src/k3s/audit-retention.ts',
  'src/k3s/components.ts',
  'src/k3s/paths.ts',
  'src/report/model.ts',
];

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(REPO, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

const mirror = (source: string) => source.replace(/^src\//, 'test/').replace(/\.ts$/, '.test.ts');

test('every source file has its test at the mirrored path, or says where it is tested, or has no logic', (t) => {
  const files = sources('src');
  t.true(files.length > 40, 'the tree was read');
  const unaccounted = files.filter((f) => !fs.existsSync(path.join(REPO, mirror(f))) && !(f in TESTED_ELSEWHERE) && !NO_LOGIC.includes(f));
  t.deepEqual(unaccounted, []);
});

test('the lists are current: no entry for a file that is gone or that has its mirrored test now', (t) => {
  for (const f of [...Object.keys(TESTED_ELSEWHERE), ...NO_LOGIC]) {
    t.true(fs.existsSync(path.join(REPO, f)), `${f} exists`);
    t.false(fs.existsSync(path.join(REPO, mirror(f))), `${f} has ${mirror(f)}: take it off the list`);
  }
});

test('a file tested elsewhere is imported by the tests named (unless tested through the built command or its importers)', (t) => {
  for (const [source, { tests, via }] of Object.entries(TESTED_ELSEWHERE)) {
    for (const file of tests) t.true(fs.existsSync(path.join(REPO, file)), `${file} exists`);
    if (via !== undefined) continue;
    const module = source.replace(/^src\//, '').replace(/\.ts$/, '.js');
    t.true(
      tests.some((file) => fs.readFileSync(path.join(REPO, file), 'utf8').includes(`src/${module}'`)),
      `${source} is imported by ${tests.join(' or ')}`,
    );
  }
});
