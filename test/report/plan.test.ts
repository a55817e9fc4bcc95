/**
 * plan as an operator reads it, from the built command in a private mount namespace: the header
 * first, each change once, as many as apply then makes, and one verdict that says the same as
 * the exit code.
 */
import test from 'ava';
import { HOSTILE, Sandbox, isRoot } from '../helpers/sandbox.js';

const it = isRoot() ? test : test.skip;

it('on a fresh host plan starts with its header, lists each change once, and counts what apply makes', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const plan = await s.cli('plan');
  t.is(plan.exitCode, 1);
  t.regex(plan.stdout, /^k3s-hostprep \S+ plan/, 'the header comes first');
  const lines = plan.stdout.split('\n').filter((l) => /^(mkdir|chmod|chown|sysctl|# create|# update|# replace) /.test(l));
  t.deepEqual(lines, [...new Set(lines)], 'no change is listed twice');
  t.is(lines.filter((l) => l.startsWith('mkdir /var/lib/rancher ')).length, 1);
  const planned = Number(/^Changes apply would make \((\d+)\):$/m.exec(plan.stdout)?.[1]);
  t.is(planned, lines.length);
  t.regex(plan.stdout, new RegExp(`\\nVerdict: apply would make ${planned} change\\(s\\) in \\d+ control\\(s\\)\\.\\n$`));
  t.is(plan.stdout.match(/^Verdict:/gm)?.length, 1, 'one verdict line');
  const json = JSON.parse((await s.cli('plan', '--json')).stdout);
  t.is(json.summary.changes, planned);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout);
  t.is(Number(/^Changes made \((\d+)\):$/m.exec(apply.stdout)?.[1]), planned, 'plan counts what apply makes');
  const again = await s.cli('plan');
  t.is(again.exitCode, 0);
  t.regex(again.stdout, /Changes apply would make: none\.\n\nVerdict: nothing to do: apply would change nothing\.\n$/);
  s.dispose();
});

it('a blocked plan says it is blocked, and not also that there is nothing to change', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  t.is((await s.cli('apply')).exitCode, 0);
  // Someone else's file where ours goes: apply leaves it alone without --force.
  s.write('/etc/sysctl.d/90-kubelet.conf', 'vm.overcommit_memory = 1\n', 0o644);
  const plan = await s.cli('plan');
  t.is(plan.exitCode, 1);
  t.notRegex(plan.stdout, /nothing to (change|do)/);
  t.regex(plan.stdout, /\nVerdict: BLOCKED: apply would change nothing, and \d+ item\(s\) need the operator first \(see Reasons\)\.\n$/);
  t.regex(plan.stdout, /Reasons:\n {2}\[FAIL\] kernel-parameters \/etc\/sysctl\.d\/90-kubelet\.conf/);
  t.is(plan.stdout.match(/^Verdict:/gm)?.length, 1);
  s.dispose();
});
