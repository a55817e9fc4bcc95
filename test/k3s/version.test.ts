import test from 'ava';
import { parseConfig, defaultConfig } from '../../src/config/load.js';
import { chooseK3sVersion } from '../../src/k3s/choose.js';
import { ConfigError, HostError, UsageError } from '../../src/errors.js';
import { benchmark } from '../../src/controls/benchmark.js';

import { NEWEST_LINE, hasPodSecurityPolicy, isVersion, parseK3sVersion, resolveK3sVersion, versionFromK3sOutput } from '../../src/k3s/version.js';
import { TestHost, context } from '../helpers/test-host.js';
import { version } from '../helpers/version.js';
import { COMPLIANT } from '../helpers/sandbox.js';

test('versions parse in the forms K3s and its installer use', (t) => {
  t.like(parseK3sVersion('v1.28.5+k3s1'), { major: 1, minor: 28, patch: 5, text: 'v1.28.5+k3s1' });
  t.like(parseK3sVersion('1.24.17'), { minor: 24, patch: 17 });
  t.like(parseK3sVersion('v1.25'), { minor: 25, patch: null });
  t.like(parseK3sVersion(' v1.30.0-rc1+k3s1 '), { minor: 30, patch: 0, text: 'v1.30.0-rc1+k3s1' });
  for (const bad of ['latest', 'stable', 'v1', '1.x', 'v2.1.0', '', 'v1.28.5 k3s1', 'v1.28.5+k3s1+extra', 'v1.28.5+', 'v1.28.5-'])
    t.false(isVersion(parseK3sVersion(bad)), bad);
  const old = parseK3sVersion('v1.20.15+k3s1');
  t.false(isVersion(old));
  t.regex((old as { error: string }).error, /older than v1\.21/);
});

test('the line decides PodSecurityPolicy or Pod Security admission', (t) => {
  t.true(hasPodSecurityPolicy(version('v1.21.14+k3s1')));
  t.true(hasPodSecurityPolicy(version('v1.24.17+k3s1')));
  t.false(hasPodSecurityPolicy(version('v1.25.0+k3s1')));
  t.false(hasPodSecurityPolicy(version(NEWEST_LINE)));
});

test("the tests' version helper throws on what the product rejects, so no test runs on an error object", (t) => {
  t.is(version('v1.21.14+k3s1').minor, 21);
  t.throws(() => version('v1.19.16+k3s1'), { message: /v1\.19\.16\+k3s1.*older than v1\.21/ });
  t.throws(() => version('latest'), { message: /not a K3s version/ });
});

test('k3s --version output gives the version', (t) => {
  t.is(versionFromK3sOutput('k3s version v1.28.5+k3s1 (5b2d1271)\ngo version go1.20.12\n'), 'v1.28.5+k3s1');
  t.is(versionFromK3sOutput('something else'), null);
});

test('resolution order: flag, config, installed binary, INSTALL_K3S_VERSION, newest line', (t) => {
  const installed = { stdout: 'k3s version v1.26.1+k3s1 (abc)\n', command: '/usr/local/bin/k3s --version' };
  const all = { flag: 'v1.24.1', config: { value: 'v1.25.2', file: 'c.yaml' }, installed, env: 'v1.27.3+k3s1' };
  const pick = (s: Parameters<typeof resolveK3sVersion>[0]) => {
    const r = resolveK3sVersion(s);
    if (!r.ok) throw new Error(r.message);
    return `${r.choice.version.text} | ${r.choice.source}`;
  };
  t.is(pick(all), 'v1.24.1 | --k3s-version');
  t.is(pick({ ...all, flag: undefined }), 'v1.25.2 | k3sVersion in c.yaml');
  t.is(pick({ installed, env: 'v1.27.3+k3s1' }), 'v1.26.1+k3s1 | /usr/local/bin/k3s --version');
  t.is(pick({ installed: null, env: 'v1.27.3+k3s1' }), 'v1.27.3+k3s1 | INSTALL_K3S_VERSION in the environment');
  t.regex(pick({ installed: null, env: '' }), new RegExp(`^${NEWEST_LINE.replace('.', '\\.')} \\| default`));
});

test('a version that does not parse is an error, never skipped', (t) => {
  const r = resolveK3sVersion({ config: { value: 'latest', file: 'c.yaml' }, env: 'v1.27.3' });
  t.false(r.ok);
  t.like(r, { where: 'c.yaml: k3sVersion' });
  const e = resolveK3sVersion({ env: 'stable' });
  t.like(e, { ok: false, where: 'INSTALL_K3S_VERSION' });
});

test('chooseK3sVersion asks the host only when nothing earlier says, and maps errors to exit 2', async (t) => {
  const host = new TestHost(COMPLIANT);
  host.k3sVersionOutput = 'k3s version v1.24.9+k3s2 (abc)\n';
  t.is((await chooseK3sVersion(host, undefined, defaultConfig(), 'v1.29.0')).version.text, 'v1.24.9+k3s2');
  t.is((await chooseK3sVersion(host, 'v1.26', defaultConfig(), undefined)).source, '--k3s-version');
  host.k3sVersionOutput = null;
  t.is((await chooseK3sVersion(host, undefined, defaultConfig(), 'v1.29.0')).source, 'INSTALL_K3S_VERSION in the environment');
  const bad = await t.throwsAsync(chooseK3sVersion(host, undefined, defaultConfig(), 'stable'), { instanceOf: ConfigError });
  t.is(bad!.exitCode, 2);
  t.regex(bad!.message, /^INSTALL_K3S_VERSION: expected a K3s version/);
  await t.throwsAsync(chooseK3sVersion(host, 'v9', defaultConfig(), undefined), { instanceOf: UsageError });
  const e = t.throws(() => parseConfig('k3sVersion: newest\n', 'c.yaml'), { instanceOf: ConfigError });
  t.regex(e!.message, /^c\.yaml: k3sVersion: expected a K3s version/);
});

test('an unquoted k3sVersion: 1.28 names the fix, and says when YAML already dropped a zero', (t) => {
  t.throws(() => parseConfig('k3sVersion: 1.28\n', 'c.yaml'), {
    message: /k3sVersion: expected a string, got number 1\.28: quote it, as in k3sVersion: "v1\.28"$/,
  });
  t.throws(() => parseConfig('k3sVersion: 1.30\n', 'c.yaml'), { message: /got number 1\.3: quote it.*1\.30 reads as 1\.3/ });
  t.is(parseConfig('k3sVersion: "1.30"\n', 'c.yaml').k3sVersion, '1.30');
});

test('an installed k3s that fails or prints no version is a host error, never replaced by a guess', async (t) => {
  const host = new TestHost(COMPLIANT);
  for (const [exitCode, stdout, stderr, says] of [
    [127, '', 'k3s: error while loading shared libraries', /k3s --version exited 127 \(k3s: error while loading shared libraries\)/],
    [0, 'garbage\n', '', /k3s --version printed no version \(garbage\)/],
  ] as const) {
    host.k3sVersion = async () => ({ command: 'k3s --version', exitCode, stdout, stderr });
    const error = await t.throwsAsync(chooseK3sVersion(host, undefined, defaultConfig(), 'v1.28.5+k3s1'), { instanceOf: HostError });
    t.regex(error!.message, says);
    t.is(error!.exitCode, 3);
  }
  // A version given explicitly does not ask the binary.
  t.is((await chooseK3sVersion(host, 'v1.28', defaultConfig(), undefined)).source, '--k3s-version');
});

test('a K3s line newer than the newest known one is judged with a warning that says so', (t) => {
  const ctx = context(new TestHost(COMPLIANT), { k3s: 'v1.99.0+k3s1' });
  const warning = benchmark.verify(ctx).find((f) => f.item === 'K3s version')!;
  t.is(warning.status, 'warn');
  t.regex(warning.reason, new RegExp(`newer than ${NEWEST_LINE.replace('.', '\\.')}, the newest line k3s-hostprep knows`));
  t.is(
    benchmark.verify(context(new TestHost(COMPLIANT), { k3s: NEWEST_LINE })).find((f) => f.item === 'K3s version'),
    undefined,
  );
});
