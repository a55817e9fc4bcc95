/**
 * The Ansible role on a simulated fleet (scripts/fleet-sim.mjs): 22 nodes, each a private mount
 * namespace with its own fake /proc/sys, /etc, /var/lib, /run and /usr/local, running its own sshd
 * on 127.0.0.1; ansible-playbook reaches each over real SSH as an unprivileged user and becomes
 * root with sudo. Servers and agents; two nodes with a conflicting 99-tuning.conf, one with a
 * configuration that does not validate, one unreachable.
 */
import test from 'ava';
import { execa } from 'execa';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { REPO, isRoot } from './helpers/sandbox.js';

interface Node {
  name: string;
  group: 'server' | 'agent';
  badConfig: boolean;
  conflict: boolean;
  unreachable: boolean;
  port: number;
  dir: string;
  pid: number | null;
}
interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

const haveTools = isRoot() && ['/usr/sbin/sshd', '/usr/bin/ansible-playbook', '/usr/bin/sudo'].every((f) => fs.existsSync(f));
const it = haveTools ? test.serial : test.skip;
const COUNT = 22;
const PLAYBOOK = path.join(REPO, 'ansible/playbooks/fleet.yml');
const COMPLIANT: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

// biome-ignore lint/suspicious/noExplicitAny: scripts/fleet-sim.mjs is plain JavaScript, without types
let sim: any;
let dir: string;
let nodes: Node[];
let release: { tarball: string; sha256: string };
/** The release over HTTP on 127.0.0.1, for k3s_hostprep_release_url; counts the downloads. */
let server: http.Server;
let releaseUrl: string;
let downloads = 0;

const healthy = () => nodes.filter((n) => !n.badConfig && !n.conflict && !n.unreachable);
const node = (name: string) => nodes.find((n) => n.name === name)!;

async function play(...args: string[]) {
  const r = await execa(
    'ansible-playbook',
    [
      PLAYBOOK,
      '-e',
      `k3s_hostprep_release_file=${release.tarball}`,
      '-e',
      `k3s_hostprep_release_sha256=${release.sha256}`,
      '-e',
      `k3s_hostprep_report_dir=${path.join(dir, 'reports')}`,
      ...args,
    ],
    { cwd: dir, env: sim.ansibleEnv(dir), reject: false, stdin: 'ignore', all: true, timeout: 300_000 },
  );
  const recap = new Map<string, Recap>();
  for (const m of String(r.all).matchAll(/^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    recap.set(m[1]!, { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) });
  }
  return { exitCode: r.exitCode ?? -1, out: String(r.all), recap };
}

/** Everything a run could change on a node: path, type, mode, owner, content hash, mtime. */
function snapshot(n: Node): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = path.join(n.dir, rel);
    const st = fs.lstatSync(full);
    const hash = st.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex').slice(0, 16) : '';
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${hash} ${st.mtimeMs}`);
    if (st.isDirectory()) for (const name of fs.readdirSync(full).sort()) walk(path.join(rel, name));
  };
  for (const d of ['proc-sys', 'etc-upper', 'etc-sysctl.d', 'sysctl.conf', 'usr-local-upper', 'vendor-sysctl.d']) walk(d);
  // The ssh user's home holds Ansible's own temporary directory; the rest of /var/lib is the node's.
  for (const name of fs
    .readdirSync(path.join(n.dir, 'var-lib'))
    .filter((x) => x !== 'ops')
    .sort())
    walk(path.join('var-lib', name));
  return out;
}

const kernel = (n: Node, key: string) => fs.readFileSync(path.join(n.dir, 'proc-sys', key), 'utf8').trim();
const configOf = (n: Node) => {
  const p = path.join(n.dir, 'etc-upper/k3s-hostprep/config.yaml');
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
};

test.before(async (t) => {
  if (!haveTools) return;
  t.timeout(120_000);
  sim = await import(path.join(REPO, 'scripts/fleet-sim.mjs'));
  dir = fs.mkdtempSync('/var/tmp/k3s-hostprep-fleet-test-');
  release = await sim.buildRelease(dir);
  nodes = await sim.up(dir, COUNT);
  server = http.createServer((req, res) => {
    if (req.url !== `/${path.basename(release.tarball)}`) return void res.writeHead(404).end();
    downloads++;
    res.writeHead(200, { 'content-type': 'application/gzip' });
    fs.createReadStream(release.tarball).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  releaseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/${path.basename(release.tarball)}`;
});

test.after.always(() => {
  if (!haveTools || dir === undefined) return;
  server?.close();
  sim.down(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('the simulated fleet: sshd on 127.0.0.1 only, a mix of roles and troubles', (t) => {
  t.is(nodes.length, COUNT);
  t.true(nodes.filter((n) => n.group === 'server').length >= 2);
  t.true(nodes.filter((n) => n.group === 'agent').length >= 10);
  t.is(nodes.filter((n) => n.badConfig).length, 1);
  t.is(nodes.filter((n) => n.conflict).length, 2);
  t.is(nodes.filter((n) => n.unreachable).length, 1);
  t.true(healthy().length >= 18);
  for (const n of nodes.filter((x) => !x.unreachable)) {
    const config = fs.readFileSync(path.join(n.dir, 'ssh/sshd_config'), 'utf8');
    t.regex(config, /^ListenAddress 127\.0\.0\.1$/m);
    t.regex(config, new RegExp(`^HostKey ${n.dir}/ssh/`, 'm'));
  }
});

it('--check --diff on a fresh fleet: plans, shows the files, and changes no node', async (t) => {
  t.timeout(400_000);
  const before = new Map(nodes.map((n) => [n.name, snapshot(n)]));
  const r = await play('--check', '--diff', '-e', 'k3s_hostprep_serial=100%', '-e', 'k3s_hostprep_max_fail_percentage=100');
  for (const n of healthy()) t.like(r.recap.get(n.name), { changed: 1, failed: 0, unreachable: 0 }, n.name);
  t.like(r.recap.get(nodes.find((n) => n.badConfig)!.name), { failed: 1 });
  t.like(r.recap.get(nodes.find((n) => n.unreachable)!.name), { unreachable: 1 });
  t.regex(r.out, /\+\+\+ after: \/etc\/sysctl\.d\/90-kubelet\.conf/);
  t.regex(r.out, /\+vm\.overcommit_memory=1/);
  t.regex(r.out, /\+\+\+ after: \/etc\/k3s-hostprep\/config\.yaml/);
  t.regex(r.out, /sysctl vm\.overcommit_memory: 0 -> 1/);
  for (const n of nodes) t.deepEqual(snapshot(n), before.get(n.name), `${n.name} changed under --check`);
  t.false(fs.existsSync(path.join(node('node01').dir, 'usr-local-upper/bin/k3s-hostprep')));
});

it('a release whose SHA-256 does not match installs nothing and changes nothing', async (t) => {
  t.timeout(400_000);
  const n = node('node04');
  const before = snapshot(n);
  const wrong = 'f'.repeat(64);
  const r = await play('--limit', n.name, '-e', `k3s_hostprep_release_sha256=${wrong}`);
  t.like(r.recap.get(n.name), { failed: 1, changed: 0 });
  t.regex(r.out, new RegExp(`"msg": "release tarball transferred has SHA-256 ${release.sha256}, expected ${wrong}: nothing installed"`));
  t.deepEqual(snapshot(n), before);
  const malformed = await play('--limit', n.name, '-e', 'k3s_hostprep_release_sha256=not-a-sha');
  t.regex(malformed.out, /release_sha256 \(k3s_hostprep_release_sha256\): expected 64 hex digits/);
});

it('the first run converges every healthy node and reports the others with their reasons', async (t) => {
  t.timeout(400_000);
  // This time the nodes download the release themselves (the check above had it transferred).
  const r = await play(
    '-e',
    'k3s_hostprep_serial=100%',
    '-e',
    'k3s_hostprep_max_fail_percentage=100',
    '-e',
    'k3s_version=v1.30.4+k3s1',
    '-e',
    `k3s_hostprep_release_url=${releaseUrl}`,
  );
  t.is(downloads, COUNT - 1, 'every reachable node downloaded the release once');
  t.not(r.exitCode, 0, 'failed and unreachable nodes make the run fail');
  for (const n of healthy()) {
    t.like(r.recap.get(n.name), { changed: 1, failed: 0, unreachable: 0 }, n.name);
    for (const [key, value] of Object.entries(COMPLIANT)) t.is(kernel(n, key), value, `${n.name} ${key}`);
    t.true(fs.existsSync(path.join(n.dir, 'usr-local-upper/bin/k3s-hostprep')), `${n.name}: installed`);
    t.true(fs.existsSync(path.join(n.dir, 'etc-upper/systemd/system/k3s-hostprep.service')), `${n.name}: unit installed`);
    const config = configOf(n)!;
    t.regex(config, new RegExp(`^role: ${n.group}$`, 'm'));
    t.regex(config, /^k3sVersion: v1\.30\.4\+k3s1$/m);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'reports', `${n.name}.json`), 'utf8'));
    t.is(report.compliant, true);
    t.is(report.role, n.group);
    t.is(report.k3s.version, 'v1.30.4+k3s1');
    t.regex(fs.readFileSync(path.join(dir, 'reports', `${n.name}.xml`), 'utf8'), /^<\?xml[\s\S]*<testsuites[\s\S]*<testsuite /);
  }
  t.true(fs.existsSync(path.join(node('node01').dir, 'var-lib/rancher/k3s/server/audit.yaml')), 'servers get the server controls');
  t.false(fs.existsSync(path.join(node('node05').dir, 'var-lib/rancher/k3s/server')), 'agents do not');

  const bad = nodes.find((n) => n.badConfig)!;
  t.like(r.recap.get(bad.name), { failed: 1 });
  t.regex(
    r.out,
    new RegExp(
      `fatal: \\[${bad.name}\\]: FAILED! => .*"exit_code": 2, .*"msg": "k3s-hostprep: /etc/k3s-hostprep/config.yaml \\(new\\): audit\\.logMaxAge: expected an integer of at least 30`,
    ),
  );
  t.is(configOf(bad), null, 'a configuration that does not validate is never written');
  t.false(fs.existsSync(path.join(bad.dir, 'usr-local-upper/bin/k3s-hostprep')), 'nothing half-done on it');
  t.is(kernel(bad, 'vm/overcommit_memory'), '0');
  for (const n of nodes.filter((x) => x.conflict)) {
    t.like(r.recap.get(n.name), { failed: 1 });
    t.regex(
      r.out,
      new RegExp(
        `fatal: \\[${n.name}\\]: FAILED! => .*"exit_code": 1, .*"msg": "k3s-hostprep: apply: NOT COMPLIANT: \\[kernel-parameters-boot\\] /etc/sysctl\\.d/99-tuning\\.conf:2 sets vm\\.overcommit_memory=2`,
      ),
    );
    t.true(fs.existsSync(path.join(dir, 'reports', `${n.name}.xml`)), 'a failed node still has its reports');
  }
  const gone = nodes.find((n) => n.unreachable)!;
  t.like(r.recap.get(gone.name), { unreachable: 1 });

  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'reports/summary.json'), 'utf8'));
  t.deepEqual(
    summary.compliant,
    healthy()
      .map((n) => n.name)
      .sort(),
  );
  const why = new Map<string, { state: string; reason: string }>(
    summary.not_compliant.map((x: { host: string; state: string; reason: string }) => [x.host, x]),
  );
  t.is(why.get(bad.name)?.state, 'config error');
  t.regex(why.get(bad.name)?.reason ?? '', /audit\.logMaxAge/);
  for (const n of nodes.filter((x) => x.conflict)) {
    t.is(why.get(n.name)?.state, 'not compliant');
    t.regex(why.get(n.name)?.reason ?? '', /99-tuning\.conf:2 sets vm\.overcommit_memory=2/);
  }
  t.is(why.get(gone.name)?.state, 'unreachable');
  t.regex(why.get(gone.name)?.reason ?? '', /Connection refused/);
  t.regex(r.out, /k3s-hostprep fleet report: 22 node\(s\): 18 compliant, 1 config error, 2 not compliant, 1 unreachable/);
});

it('the second run is changed=0, and so is --check on the converged fleet', async (t) => {
  t.timeout(400_000);
  const before = new Map(healthy().map((n) => [n.name, snapshot(n).filter((l) => !/^var-lib\/(k3s-hostprep|node_exporter)\//.test(l))]));
  const r = await play('-e', 'k3s_hostprep_serial=100%', '-e', 'k3s_hostprep_max_fail_percentage=100', '-e', 'k3s_version=v1.30.4+k3s1');
  for (const n of nodes.filter((x) => !x.unreachable)) t.like(r.recap.get(n.name), { changed: 0 }, n.name);
  for (const n of healthy()) {
    t.like(r.recap.get(n.name), { failed: 0 }, n.name);
    // No file of the node rewritten (the reports and the metrics file are rewritten by every run).
    t.deepEqual(
      snapshot(n).filter((l) => !/^var-lib\/(k3s-hostprep|node_exporter)\//.test(l)),
      before.get(n.name),
      n.name,
    );
  }
  const check = await play('--check', '-e', 'k3s_hostprep_serial=100%', '-e', 'k3s_hostprep_max_fail_percentage=100', '-e', 'k3s_version=v1.30.4+k3s1');
  for (const n of healthy()) t.like(check.recap.get(n.name), { changed: 0, failed: 0 }, n.name);
});

it('a bad configuration stops the rollout at its batch', async (t) => {
  t.timeout(400_000);
  // A fleet-wide change, rolled out five nodes at a time; the node whose configuration does not
  // validate is in the first batch.
  const inventory = fs.readFileSync(path.join(dir, 'inventory.yml'), 'utf8');
  fs.writeFileSync(path.join(dir, 'inventory.yml'), inventory.replace(/^ {2}vars:\n/m, '  vars:\n    k3s_hostprep_config: {"terminatedPodGcThreshold": 20}\n'));
  const r = await play('-e', 'k3s_hostprep_serial=5', '-e', 'k3s_hostprep_max_fail_percentage=0', '-e', 'k3s_version=v1.30.4+k3s1');
  t.not(r.exitCode, 0);
  const first = nodes.slice(0, 5);
  t.true(
    first.some((n) => n.badConfig),
    'the bad node is in the first batch',
  );
  t.deepEqual([...r.recap.keys()].sort(), first.map((n) => n.name).sort(), 'only the first batch ran');
  for (const n of first.filter((x) => !x.badConfig)) {
    t.like(r.recap.get(n.name), { changed: 1, failed: 0 }, n.name);
    t.regex(configOf(n)!, /terminatedPodGcThreshold: 20/);
  }
  for (const n of nodes.slice(5).filter((x) => !x.unreachable && !x.badConfig))
    t.notRegex(configOf(n) ?? '', /terminatedPodGcThreshold/, `${n.name} was not reached`);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'reports/summary.json'), 'utf8'));
  t.is(summary.counts['not reached'], COUNT - 5);
});
