import test from 'ava';
import { ownership, renderManaged, sha256 } from '../../src/controls/managed.js';

test('a rendered file is ours; an edited one is told apart from a foreign one', (t) => {
  const text = renderManaged('vm.overcommit_memory=1\n');
  t.is(ownership(text), 'ours');
  t.true(text.includes(sha256('vm.overcommit_memory=1\n')));
  t.is(ownership(text.replace('=1', '=2')), 'edited');
  t.is(ownership('vm.overcommit_memory=1\n'), 'foreign');
  t.is(ownership(''), 'foreign');
});

test('rendering is deterministic', (t) => {
  t.is(renderManaged('a\n'), renderManaged('a\n'));
  t.not(renderManaged('a\n'), renderManaged('b\n'));
});
