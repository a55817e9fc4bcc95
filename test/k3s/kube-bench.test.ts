/**
 * kube-bench's flag test (check/test.go, flagTestItem.findValue): the scan in src/k3s/kube-bench.ts
 * against the pattern kube-bench compiles, `(flag)(=|: *)*([^\s]*) *`, written here as a regular
 * expression with Go's \s (RE2's Perl class: space, \t, \n, \f, \r). The verdicts it feeds are
 * tested per check id in kube-bench-table.test.ts.
 */
import test from 'ava';
import { findFlag } from '../../src/k3s/kube-bench.js';

/** kube-bench's findValue, as written in check/test.go, on a Go-flavoured regular expression. */
function reference(s: string, flag: string): { found: boolean; value: string } {
  if (s === '' || flag === '' || !s.includes(flag)) return { found: false, value: '' };
  const m = new RegExp(`(${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})(=|: *)*([^ \\t\\n\\f\\r]*) *`).exec(s)!;
  return { found: true, value: m[3] !== '' ? m[3]! : flag.startsWith('--') ? 'true' : m[1]! };
}

const cases: [line: string, flag: string, found: boolean, value: string][] = [
  ['/usr/local/bin/k3s server --anonymous-auth=false --profiling=false', '--anonymous-auth', true, 'false'],
  ['kube-apiserver --profiling --secure-port=6444', '--profiling', true, 'true'],
  ['kube-apiserver --secure-port=6444', '--profiling', false, ''],
  ['readOnlyPort: 0', 'readOnlyPort', true, '0'],
  ['authentication:anonymous', 'authentication', true, 'anonymous'],
  ['permissions=600', 'permissions', true, '600'],
  ['root:root', 'root:root', true, 'root:root'],
  ['--a=:: =x', '--a', true, 'x'],
  ['--audit-log-maxage=30"', '--audit-log-maxage', true, '30"'],
  ['--tls-cipher-suites=A,B --x', '--tls-cipher-suites', true, 'A,B'],
  ['--a==b', '--a', true, 'b'],
  ['x --a --a=1', '--a', true, 'true'],
  ['--a=1\tnext', '--a', true, '1'],
  // Go's \s is ASCII: a vertical tab or a no-break space belongs to the value, as kube-bench reads it.
  ['--a=1\vnext', '--a', true, '1\vnext'],
  ['--a=1\u00a0next', '--a', true, '1\u00a0next'],
  ['', '--a', false, ''],
  ['--a=1', '', false, ''],
];

for (const [line, flag, found, value] of cases) {
  test(`findFlag(${JSON.stringify(line)}, ${JSON.stringify(flag)}) is ${found ? JSON.stringify(value) : 'not found'}, as kube-bench reads it`, (t) => {
    t.deepEqual(findFlag(line, flag), { found, value });
    t.deepEqual(reference(line, flag), { found, value });
  });
}

test('findFlag agrees with kube-bench pattern on 20,000 generated lines', (t) => {
  // A fixed generator (not Math.random): the same lines every run, so a difference is reproducible.
  let seed = 42;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return (seed >>> 16) % n;
  };
  const alphabet = ['-', '--', '--a', 'a', 'b', '=', ':', ' ', '  ', '\t', '\n', '\v', '\u00a0', '"', ',', '.', '*'];
  const flags = ['--a', 'a', '-a', 'a:', 'a=', '--a-b', 'a.b', ':', '='];
  let withValue = 0;
  let boolean = 0;
  for (let i = 0; i < 20_000; i++) {
    let line = '';
    for (let n = next(12); n > 0; n--) line += alphabet[next(alphabet.length)];
    const flag = flags[next(flags.length)]!;
    const got = findFlag(line, flag);
    const want = reference(line, flag);
    if (got.found !== want.found || got.value !== want.value) {
      t.fail(`findFlag(${JSON.stringify(line)}, ${JSON.stringify(flag)}) = ${JSON.stringify(got)}, kube-bench: ${JSON.stringify(want)}`);
      return;
    }
    if (want.found && want.value === 'true' && flag.startsWith('--')) boolean++;
    else if (want.found) withValue++;
  }
  // The lines covered both outcomes, not only "not found".
  t.true(withValue > 1000 && boolean > 100, `${withValue} with a value, ${boolean} boolean`);
});
