/**
 * An operator's own /etc/sysctl.d/90-kubelet.conf (written by hand from the hardening guide),
 * from the built command with the real sysctl in a private mount namespace: with every value
 * right it does our file's job, so the live values are converged and the file is left alone
 * with a warning; with a wrong value the report names the file, the key and the fix.
 */
import test from 'ava';
import fs from 'fs-extra';
import { COMPLIANT, HOSTILE, Sandbox, isRoot } from '../helpers/sandbox.js';

const it = isRoot() ? test : test.skip;
const FILE = '/etc/sysctl.d/90-kubelet.conf';
const SIX =
  Object.entries(COMPLIANT)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n') + '\n';

it('a foreign 90-kubelet.conf with the six right values: the live values are converged, the file is left alone, compliant', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const text = `# from the K3s hardening guide\n${SIX}`;
  s.write(FILE, text, 0o644);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout + apply.stderr);
  for (const [key, value] of Object.entries(COMPLIANT)) t.is(s.kernel(key), value, key);
  t.is(fs.readFileSync(s.host(FILE), 'utf8'), text, "the operator's file is untouched");
  t.regex(
    apply.stdout,
    /\[WARN\] kernel-parameters \/etc\/sysctl\.d\/90-kubelet\.conf: \/etc\/sysctl\.d\/90-kubelet\.conf was not written by k3s-hostprep; it sets every value required/,
  );
  t.regex(apply.stdout, /kernel-parameters \/etc\/sysctl\.d\/90-kubelet\.conf: nothing is needed; to let k3s-hostprep own the file, run apply --force/);
  t.regex(apply.stdout, /Verdict: COMPLIANT/);
  const check = await s.cli('check');
  t.is(check.exitCode, 0, check.stdout);
  s.dispose();
});

it('a foreign 90-kubelet.conf with a wrong value names the file, the key and the fix, and changes nothing', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const text = SIX.replace('vm.overcommit_memory = 1', 'vm.overcommit_memory = 2');
  s.write(FILE, text, 0o644);
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 1, apply.stdout);
  t.regex(
    apply.stdout,
    /\[FAIL\] kernel-parameters \/etc\/sysctl\.d\/90-kubelet\.conf: \/etc\/sysctl\.d\/90-kubelet\.conf was not written by k3s-hostprep, and not every value in it is right: vm\.overcommit_memory=2 \(expected 1\); it is left alone/,
  );
  t.regex(apply.stdout, /correct those lines in \/etc\/sysctl\.d\/90-kubelet\.conf .*or run apply --force to replace it/);
  t.is(fs.readFileSync(s.host(FILE), 'utf8'), text);
  t.is(s.kernel('kernel.panic'), '-1', 'the live values are not changed');
  // --force hands the file to k3s-hostprep, keeping the operator's beside it.
  const forced = await s.cli('apply', '--force');
  t.is(forced.exitCode, 0, forced.stdout);
  t.is(s.kernel('vm.overcommit_memory'), '1');
  t.true(s.list('etc-sysctl.d').some((n) => n.includes('k3s-hostprep-backup')));
  s.dispose();
});
