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

test('a file control plans, writes and verifies its one file, and skips it where it does not belong', async (t) => {
  const { fileControl } = await import('../../src/controls/managed.js');
  const { TestHost, context } = await import('../helpers/test-host.js');
  const { COMPLIANT } = await import('../helpers/sandbox.js');
  let here = true;
  const control = fileControl({
    id: 'example',
    title: 'an example managed file',
    scored: true,
    roles: ['server'],
    remediation: 'run apply',
    path: '/etc/example/example.conf',
    file: () => ({
      path: '/etc/example/example.conf',
      body: 'x=1\n',
      mode: 0o600,
      parent: { path: '/etc/example', mode: 0o755, ancestorMode: () => 0o755, enforce: false },
    }),
    notHere: () => (here ? null : 'not on this node'),
    cisFor: () => '9.9.9',
  });
  t.deepEqual(control.watch, ['/etc/example/example.conf']);
  const host = new TestHost(COMPLIANT);
  const ctx = context(host);
  t.is(control.verify(ctx)[0]!.status, 'fail');
  await control.apply(ctx, control.plan(ctx));
  t.deepEqual(
    control.verify(ctx).map((f) => [f.status, f.cis]),
    [['pass', '9.9.9']],
  );
  t.deepEqual(control.plan(ctx).changes, []);
  here = false;
  t.deepEqual(control.plan(ctx), { changes: [], blocked: [] });
  t.deepEqual(
    control.verify(ctx).map((f) => [f.item, f.status, f.reason]),
    [['/etc/example/example.conf', 'skip', 'not on this node']],
  );
});
