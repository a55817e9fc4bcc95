import test from 'ava';
import { globMatches, normalizeKey, parseSysctlConf, renderSysctlConf } from '../../src/sysctl/conf.js';

test('parses assignments with comments, blanks, spaces and the ignore-failure prefix', (t) => {
  const text = '# comment\n; also a comment\n\nvm.overcommit_memory = 1\n-kernel.panic=10\nno equals sign\n  kernel.panic_on_oops=1  \n';
  const got = parseSysctlConf(text, '/etc/sysctl.d/x.conf');
  t.deepEqual(
    got.map((a) => [a.key, a.value, a.line, a.ignoreFailure]),
    [
      ['vm.overcommit_memory', '1', 4, false],
      ['kernel.panic', '10', 5, true],
      ['kernel.panic_on_oops', '1', 7, false],
    ],
  );
  t.true(got.every((a) => a.file === '/etc/sysctl.d/x.conf'));
});

test('slash-separated keys are normalised as systemd does', (t) => {
  t.is(normalizeKey('vm/overcommit_memory'), 'vm.overcommit_memory');
  t.is(normalizeKey('/kernel/keys/root_maxkeys'), 'kernel.keys.root_maxkeys');
  t.is(normalizeKey('net/ipv4/conf/eth0.100/rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  t.is(normalizeKey('net.ipv4.conf.all.rp_filter'), 'net.ipv4.conf.all.rp_filter');
});

test('globs match like fnmatch', (t) => {
  t.true(globMatches('kernel.*', 'kernel.panic'));
  t.true(globMatches('kernel.panic_on_oop?', 'kernel.panic_on_oops'));
  t.true(globMatches('vm.[op]*', 'vm.overcommit_memory'));
  t.false(globMatches('vm.[!op]*', 'vm.overcommit_memory'));
  t.false(globMatches('kernel.panic', 'kernel.panic_on_oops'));
  t.true(parseSysctlConf('kernel.*=1', 'f')[0]!.glob);
});

test('renders a header and key=value lines', (t) => {
  t.is(
    renderSysctlConf(
      ['a', ''],
      [
        ['k.x', 1],
        ['k.y', '2'],
      ],
    ),
    '# a\n#\nk.x=1\nk.y=2\n',
  );
});
