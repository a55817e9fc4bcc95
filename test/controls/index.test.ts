import test from 'ava';
import { CONTROLS } from '../../src/controls/index.js';

test('every control that ships declares its metadata', (t) => {
  t.true(CONTROLS.length >= 4);
  const ids = new Set<string>();
  for (const c of CONTROLS) {
    t.regex(c.id, /^[a-z][a-z0-9-]*$/, c.id);
    t.false(ids.has(c.id), `duplicate id ${c.id}`);
    ids.add(c.id);
    if (c.cis !== undefined) t.regex(c.cis, /^\d+(\.\d+)+$/, `${c.id} CIS number`);
    t.true(c.title.length > 10, `${c.id} title`);
    t.true(c.remediation.length > 10, `${c.id} remediation`);
    t.true(c.roles.length > 0 && c.roles.every((r) => r === 'server' || r === 'agent'), `${c.id} roles`);
    t.is(typeof c.scored, 'boolean');
  }
  t.deepEqual([...ids].slice(0, 4), ['kernel-parameters', 'kernel-parameters-boot', 'directories', 'audit-policy']);
});
