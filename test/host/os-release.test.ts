import test from 'ava';
import { distributionName, parseOsRelease } from '../../src/host/os-release.js';
import { TestHost } from '../helpers/test-host.js';
import { NodeHost } from '../../src/host/node-host.js';

test('os-release: quoted, single-quoted, escaped and bare values; comments and junk ignored', (t) => {
  const vars = parseOsRelease('# comment\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME=\'Debian\'\nVERSION_ID=12\nQUOTED="a \\"b\\" \\$c"\nnot a line\n');
  t.is(vars.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  t.is(vars.NAME, 'Debian');
  t.is(vars.VERSION_ID, '12');
  t.is(vars.QUOTED, 'a "b" $c');
  t.false('not a line' in vars);
});

test('distribution: PRETTY_NAME, else NAME and VERSION_ID, else nothing', (t) => {
  t.is(distributionName({ PRETTY_NAME: 'Ubuntu 24.04 LTS', NAME: 'Ubuntu' }), 'Ubuntu 24.04 LTS');
  t.is(distributionName({ NAME: 'Rocky Linux', VERSION_ID: '9.4' }), 'Rocky Linux 9.4');
  t.is(distributionName({}), null);
});

test('facts of a live host come from os-release and uname without systeminformation', async (t) => {
  const host = new TestHost({});
  host.write('/etc/os-release', 'NAME="Fedora Linux"\nVERSION_ID=41\n');
  // TestHost overrides facts(); the NodeHost implementation is what ships.
  const facts = await NodeHost.prototype.facts.call(host);
  t.is(facts.distribution, 'Fedora Linux 41');
  const os = await import('node:os');
  t.is(facts.kernel, os.release());
  t.is(facts.hostname, os.hostname());
});

test('/usr/lib/os-release is the fallback, as os-release(5) says', async (t) => {
  const host = new TestHost({});
  host.write('/usr/lib/os-release', 'PRETTY_NAME="Vendor OS 3"\n');
  t.is((await NodeHost.prototype.facts.call(host)).distribution, 'Vendor OS 3');
});
