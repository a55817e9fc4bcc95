/**
 * The YAML emitter: its layout, its quoting, and (property test) that whatever plain data it
 * writes, the yaml library reads back as the same data, under YAML 1.2 and YAML 1.1 alike.
 */
import test from 'ava';
import { parse, parseDocument, stringify } from 'yaml';
import { emitYaml, isPlainSafe, yamlString } from '../../src/yaml/emit.js';

type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** Parses one document, failing on any error or warning. */
function read(text: string, version: '1.1' | '1.2' = '1.2'): unknown {
  const doc = parseDocument(text, { version, uniqueKeys: true });
  if (doc.errors.length > 0 || doc.warnings.length > 0) throw new Error(`${[...doc.errors, ...doc.warnings][0]!.message}\n--- text:\n${text}`);
  return doc.toJS();
}

test('block layout: mappings, sequences under their key, mappings inside sequences, empty collections in flow style', (t) => {
  const value = {
    apiVersion: 'v1',
    spec: { podSelector: {}, ingress: [{}, { from: [{ namespaceSelector: { matchLabels: { a: 'b' } } }] }], policyTypes: ['Ingress'], none: [] },
    ports: [{ port: 53, protocol: 'TCP' }],
    nested: [[1, 2], ['x']],
    flags: [true, false, null],
  };
  t.is(
    emitYaml(value),
    [
      'apiVersion: v1',
      'spec:',
      '  podSelector: {}',
      '  ingress:',
      '    - {}',
      '    - from:',
      '        - namespaceSelector:',
      '            matchLabels:',
      '              a: b',
      '  policyTypes:',
      '    - Ingress',
      '  none: []',
      'ports:',
      '  - port: 53',
      '    protocol: TCP',
      'nested:',
      '  - - 1',
      '    - 2',
      '  - - x',
      'flags:',
      '  - true',
      '  - false',
      '  - null',
      '',
    ].join('\n'),
  );
  t.deepEqual(read(emitYaml(value)), value);
});

test("the same text as yaml's stringify for data like the generated files'", (t) => {
  const value = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'default:restricted-psp', annotations: { 'seccomp.security.alpha.kubernetes.io/allowedProfileNames': '*' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'psp:restricted-psp' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' }],
    spec: { hostPorts: [{ min: 0, max: 65535 }], volumes: ['*'], exemptions: { usernames: [], namespaces: ['kube-system'] }, empty: '', qps: 50 },
  };
  t.is(emitYaml(value), stringify(value, { lineWidth: 0 }));
});

test('scalars: plain when safe, JSON double quotes otherwise', (t) => {
  for (const s of [
    '/healthz*',
    'a#b',
    "it's",
    'x?y',
    'Metadata',
    'kube-system',
    'system:nodes',
    'networking.k8s.io/v1',
    '/var/lib/rancher',
    'a b',
    'x=y,z',
    '_x',
    'psp:svclb-psp',
  ]) {
    t.true(isPlainSafe(s), s);
    t.is(yamlString(s), s);
  }
  const quoted = [
    '',
    '*',
    'true',
    'False',
    'yes',
    'No',
    'on',
    'OFF',
    'y',
    'N',
    'null',
    '~',
    '53',
    '0600',
    '1.5',
    '-1',
    '.inf',
    '.5',
    'a: b',
    'a #b',
    'end:',
    ' lead',
    'trail ',
    'two  spaces',
    '- x',
    '#x',
    '&a',
    '*a',
    '!t',
    '|',
    '>',
    '"q"',
    "'q'",
    '%x',
    '@x',
    '`x',
    '{a}',
    '[a]',
    '?',
    'a\nb',
    'tab\there',
    '2024-01-01',
    '0x1F',
    '1_000',
    '<<',
    '=',
  ];
  for (const s of quoted) {
    t.false(isPlainSafe(s), JSON.stringify(s));
    t.is(yamlString(s)[0], '"', JSON.stringify(s));
    t.deepEqual(read(`k: ${yamlString(s)}\n`), { k: s });
  }
  t.is(yamlString('a\u0085b\u2028c\u007fd\ufeff'), '"a\\u0085b\\u2028c\\u007fd\\ufeff"');
});

test('numbers, booleans and null, including the special numbers', (t) => {
  t.is(
    emitYaml({ a: 1, b: -2.5, c: 1e21, d: -0, e: NaN, f: Infinity, g: -Infinity, h: true, i: null }),
    'a: 1\nb: -2.5\nc: 1e+21\nd: -0\ne: .nan\nf: .inf\ng: -.inf\nh: true\ni: null\n',
  );
  const back = read(emitYaml({ d: -0, e: NaN, f: Infinity, g: -Infinity })) as Record<string, number>;
  t.true(Object.is(back.d, -0));
  t.true(Number.isNaN(back.e));
  t.is(back.f, Infinity);
  t.is(back.g, -Infinity);
  t.is(emitYaml('text'), 'text\n');
  t.is(emitYaml([]), '[]\n');
  t.is(emitYaml({}), '{}\n');
});

test('keys with undefined values are left out, undefined in a sequence is null; anything but plain data is refused', (t) => {
  t.is(emitYaml({ a: undefined, b: 1, c: [undefined] }), 'b: 1\nc:\n  - null\n');
  t.throws(() => emitYaml({ when: new Date(0) }), { instanceOf: TypeError, message: /Date.*plain data only/ });
  t.throws(() => emitYaml({ n: 1n }), { instanceOf: TypeError, message: /bigint/ });
  t.throws(() => emitYaml({ m: new Map() }), { instanceOf: TypeError, message: /Map/ });
  t.throws(() => emitYaml(() => 1), { instanceOf: TypeError, message: /function/ });
});

test('a key longer than YAML allows for an implicit key is written as an explicit one', (t) => {
  const long = 'k'.repeat(1100);
  const value = { [long]: { a: [1, { b: 2 }] }, [`${long}2`]: 'v', short: 1 };
  const text = emitYaml(value);
  t.regex(text, /^\? k{1100}\n: a:\n/);
  t.deepEqual(read(text), value);
});

/** A deterministic pseudo-random source (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  '',
  'true',
  'False',
  'yes',
  'NO',
  'on',
  'Off',
  'y',
  'null',
  'Null',
  '~',
  '0',
  '-0',
  '007',
  '0x1f',
  '0o17',
  '1e3',
  '1_000',
  '1:20',
  '.5',
  '.inf',
  '-.Inf',
  '.NaN',
  '2001-12-14',
  '<<',
  '=',
  '-',
  '?',
  ':',
  '- a',
  'a: b',
  'a #b',
  '#c',
  'a:',
  ' x',
  'x ',
  'a  b',
  "it's",
  '"q"',
  '\\',
  'kube-system',
  'system:nodes',
  'a/b.c',
  'x=1,y=2',
  '*',
  '&a',
  '!t',
  '%',
  '@',
  '`',
  '|',
  '>',
  '[a]',
  '{b}',
  'multi\nline',
  'tab\t',
  'ü',
  '日本',
  '😀',
  '\u0085',
  '\u2028',
  '\u007f',
  '\ufeff',
  '\u0000',
  '\u001b',
];
const ALPHABET = 'abcXYZ019 _-.:/#,=@+()*&!|>\'"%`[]{}?~\n\t\\ü\u0085\u2028\u00a0';

function randomString(r: () => number): string {
  if (r() < 0.5) return WORDS[Math.floor(r() * WORDS.length)]!;
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function randomScalar(r: () => number): Plain {
  const x = r();
  if (x < 0.55) return randomString(r);
  if (x < 0.7) return Math.floor(r() * 2_000_000) - 1_000_000;
  if (x < 0.8) return [0.5, -1.25, 1e21, 1e-7, -0, 3.25, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity][Math.floor(r() * 10)]!;
  if (x < 0.9) return r() < 0.5;
  return null;
}

function randomPlain(r: () => number, depth: number): Plain {
  const x = r();
  if (depth >= 4 || x < 0.4) return randomScalar(r);
  const n = Math.floor(r() * 5);
  if (x < 0.7) return Array.from({ length: n }, () => randomPlain(r, depth + 1));
  const map: Record<string, Plain> = {};
  for (let i = 0; i < n; i++) {
    const key = randomString(r);
    if (key === '__proto__') continue;
    map[key] = randomPlain(r, depth + 1);
  }
  return map;
}

test('property: yaml reads back exactly the plain data written (YAML 1.2 and 1.1), 3000 random documents', (t) => {
  const r = random(20261127);
  for (let i = 0; i < 3000; i++) {
    const value = randomPlain(r, 0);
    const text = emitYaml(value);
    const back = read(text);
    if (!sameData(back, value)) {
      t.fail(`document ${i} does not read back:\n${text}\nwrote ${JSON.stringify(value)}\nread ${JSON.stringify(back)}`);
      return;
    }
    const back11 = read(text, '1.1');
    if (!sameData(back11, value)) {
      t.fail(`document ${i} reads differently as YAML 1.1:\n${text}\nwrote ${JSON.stringify(value)}\nread ${JSON.stringify(back11)}`);
      return;
    }
  }
  t.pass();
});

/** Deep equality that tells -0 from 0 and takes NaN as equal to itself. */
function sameData(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

test("the property test's comparison itself tells different data apart", (t) => {
  t.false(sameData({ a: 0 }, { a: -0 }));
  t.false(sameData({ a: 1, b: 2 }, { b: 2, a: 1 }));
  t.false(sameData(['1'], [1]));
  t.false(sameData({ a: null }, { a: 'null' }));
  t.true(sameData({ a: [NaN, { b: true }] }, { a: [NaN, { b: true }] }));
  t.is(parse('a: yes', { version: '1.1' }).a, true, 'YAML 1.1 reads yes as true: the quoting matters');
});
