/** plan changes nothing: not even the metrics file that check and apply rewrite. */
import test from 'ava';
import { Sandbox, isRoot } from './helpers/sandbox.js';

const it = isRoot() ? test : test.skip;
const PROM = '/var/lib/node_exporter/textfile_collector/k3s_hostprep.prom';

it('plan writes no metrics file; check does', async (t) => {
  const s = new Sandbox();
  try {
    s.write('/etc/k3s-hostprep/config.yaml', `role: agent\nmetrics:\n  textfilePath: ${PROM}\n`, 0o600);
    const plan = await s.cli('plan');
    t.is(plan.exitCode, 1, plan.stderr);
    t.deepEqual(s.list('var-lib'), []);
    const check = await s.cli('check');
    t.is(check.exitCode, 1);
    t.true(s.list('var-lib').includes('node_exporter/textfile_collector/k3s_hostprep.prom'));
  } finally {
    s.dispose();
  }
});
