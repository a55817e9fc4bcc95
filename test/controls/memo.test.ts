import test from 'ava';
import { rendered } from '../../src/controls/memo.js';

test('a text is rendered once per configuration object and key', (t) => {
  const a = {};
  const b = {};
  let calls = 0;
  const render = () => `text ${++calls}`;
  t.is(rendered(a, 'k', render), 'text 1');
  t.is(rendered(a, 'k', render), 'text 1');
  t.is(rendered(a, 'other', render), 'text 2', 'another key renders');
  t.is(rendered(b, 'k', render), 'text 3', 'another configuration renders');
  t.is(calls, 3);
});
