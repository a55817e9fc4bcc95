import test from 'ava';
import { didYouMean, distance, pathProblem, validate } from '../../src/config/spec.js';

test('edit distance and did-you-mean', (t) => {
  t.is(distance('role', 'rol'), 1);
  t.is(distance('kitten', 'sitting'), 3);
  t.is(didYouMean('audti', ['role', 'audit']), ' (did you mean "audit"?)');
  t.is(didYouMean('zzzzzz', ['role', 'audit']), '');
});

test('paths must be absolute, normalised and below an allowed directory', (t) => {
  const allowed = ['/var/lib/node_exporter', '/run'];
  t.is(pathProblem('/var/lib/node_exporter/textfile/k3s.prom', allowed), null);
  t.regex(pathProblem('relative/x.prom', allowed)!, /absolute file path below \/var\/lib\/node_exporter or \/run/);
  t.regex(pathProblem('/var/lib/node_exporter/../../../etc/shadow', allowed)!, /normalised/);
  t.regex(pathProblem('/etc/passwd', allowed)!, /below/);
  t.regex(pathProblem('/run', allowed)!, /below/);
  t.regex(pathProblem('/runaway/x', allowed)!, /below/);
  t.deepEqual(validate({ type: 'path', allowed }, 3, 'metrics.path'), ['metrics.path: expected a path, got number 3']);
});

test('ints honour bounds and say why', (t) => {
  t.deepEqual(validate({ type: 'int', min: 30, why: 'CIS 1.2.20' }, 7, 'audit.maxAge'), [
    'audit.maxAge: expected an integer of at least 30 (CIS 1.2.20), got 7',
  ]);
  t.deepEqual(validate({ type: 'int' }, 1.5, 'x'), ['x: expected an integer, got number 1.5']);
  t.deepEqual(validate({ type: 'array', items: { type: 'string' }, unique: true }, ['a', 'a'], 'l'), ['l: "a" is listed twice']);
});
