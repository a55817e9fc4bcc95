/**
 * The Remediation section says what fixes each finding, from the built command in a private
 * mount namespace: never "run apply" where apply cannot help, never "remove it" where that would
 * cut K3s off from its data.
 */
import test from 'ava';
import fs from 'fs-extra';
import { HOSTILE, Sandbox, isRoot } from '../helpers/sandbox.js';

const it = isRoot() ? test : test.skip;

function remediation(stdout: string): string {
  const i = stdout.indexOf('\nRemediation:\n');
  return i < 0 ? '' : stdout.slice(i).split('\n\n')[0]!;
}

it('after a compliant apply, an unscored warning gets no "run apply": its reason says what to do', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 0, apply.stdout);
  t.regex(
    apply.stdout,
    /\[WARN\] kube-bench Ensure that the admission control plugin AlwaysPullImages is set: .*Set admission\.alwaysPullImages: true in the k3s-hostprep configuration/,
  );
  t.notRegex(remediation(apply.stdout), /apply/);
  s.dispose();
});

it("a flag set in the K3s unit's ExecStart is fixed in the unit, not by apply", async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  s.write('/etc/systemd/system/k3s.service', "[Service]\nExecStart=/usr/local/bin/k3s \\\n    server \\\n\t'--kube-apiserver-arg' \\\n\t'profiling=true' \\\n");
  const apply = await s.cli('apply');
  t.is(apply.exitCode, 1, apply.stdout);
  const text = remediation(apply.stdout);
  t.regex(
    text,
    /--profiling argument .*: the value comes from ExecStart in \/etc\/systemd\/system\/k3s\.service, which apply does not edit: change that flag there/,
  );
  t.notRegex(text, /Run k3s-hostprep apply/);
  s.dispose();
});

it('a symlinked K3s data directory is never "removed": the fix keeps the data and replaces the link by a bind mount', async (t) => {
  const s = new Sandbox({ kernel: HOSTILE });
  fs.mkdirpSync(s.host('/var/lib/data-disk/server'));
  fs.mkdirpSync(s.host('/var/lib/rancher/k3s'));
  fs.symlinkSync('/var/lib/data-disk/server', s.host('/var/lib/rancher/k3s/server'));
  const apply = await s.cli('apply');
  t.not(apply.exitCode, 0);
  t.notRegex(apply.stdout, /Remove it/);
  t.regex(
    remediation(apply.stdout),
    /\/var\/lib\/rancher\/k3s\/server: keep the data where it is and replace the symlink by a bind mount: stop K3s, rm \/var\/lib\/rancher\/k3s\/server \(the link only, not \/var\/lib\/data-disk\/server\)/,
  );
  t.true(fs.lstatSync(s.host('/var/lib/rancher/k3s/server')).isSymbolicLink(), 'the link is left alone');
  s.dispose();
});
