#!/usr/bin/env node
/**
 * A simulated fleet on this machine, for the Ansible role's tests and benchmark: each node is a
 * private mount namespace (scripts/sandbox-mounts.sh: fake /proc/sys, its own /etc overlay,
 * /var/lib and /run; plus its own /usr/local overlay, /root, /tmp and /var/log) running its own
 * sshd on its own 127.0.0.1 port. Ansible reaches every node over real SSH as an unprivileged
 * user `ops` and becomes root with sudo. Nothing listens beyond 127.0.0.1, and sshd never reads
 * this machine's /etc/ssh: its configuration and host key are generated under the fleet
 * directory and named on its command line; the user, its sudoers entry and its shadow entry
 * exist only in each node's /etc overlay.
 *
 *   node scripts/fleet-sim.mjs release DIR         a release tarball holding the bundle (see below)
 *   node scripts/fleet-sim.mjs up DIR [--nodes N]  start the fleet; writes DIR/fleet.json,
 *                                                  DIR/inventory.yml, DIR/ansible.cfg
 *   node scripts/fleet-sim.mjs down DIR            stop what up started (by the pids it recorded)
 *
 * The release tarball has the layout of scripts/build-sea's, but its k3s-hostprep is the same
 * esbuild bundle the single executable embeds, as a script run by this machine's node, instead
 * of a 100 MB executable: building and copying that to every node would dominate the tests.
 *
 * The default mix for N nodes (N >= 8): node01..node03 servers, the rest agents; node03 gets a
 * configuration that does not validate; the third and second to last nodes a conflicting
 * /etc/sysctl.d/99-tuning.conf; the last node is in the inventory but has no sshd (unreachable).
 * Every node starts with the kernel values the kubelet refuses.
 *
 * Needs root, unshare, mount, sshd and ssh-keygen (openssh-server, openssh-client), sudo.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MOUNTS = path.join(REPO, 'scripts/sandbox-mounts.sh');
const USER = 'ops';

export const HOSTILE = {
  'vm.panic_on_oom': '0',
  'vm.overcommit_memory': '0',
  'kernel.panic': '-1',
  'kernel.panic_on_oops': '0',
  'kernel.keys.root_maxkeys': '200',
  'kernel.keys.root_maxbytes': '20000',
};

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A uid and gid free on this machine, for the ssh user that exists only inside the nodes. */
function freeId() {
  const used = new Set();
  for (const file of ['/etc/passwd', '/etc/group']) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) used.add(Number(line.split(':')[2]));
  }
  for (let id = 4242; ; id++) if (!used.has(id)) return id;
}

async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((resolve, reject) => s.listen(0, '127.0.0.1', resolve).on('error', reject));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Every node healthy (the benchmark's fleet): node01..node03 servers, the rest agents. */
export function healthyMix(count) {
  return defaultMix(Math.max(count, 8))
    .slice(0, count)
    .map((n) => ({ ...n, badConfig: false, conflict: false, unreachable: false }));
}

export function defaultMix(count) {
  if (count < 8) throw new Error('fleet-sim: at least 8 nodes');
  return Array.from({ length: count }, (_, i) => {
    const name = `node${String(i + 1).padStart(2, '0')}`;
    return {
      name,
      group: i < 3 ? 'server' : 'agent',
      badConfig: i === 2,
      conflict: i === count - 3 || i === count - 2,
      unreachable: i === count - 1,
    };
  });
}

/** The release tarball: k3s-hostprep-<version>-linux-<arch>/{k3s-hostprep,systemd/,README.md}. */
export async function buildRelease(dir) {
  const { build } = await import(path.join(REPO, 'node_modules/esbuild/lib/main.js'));
  const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
  const name = `k3s-hostprep-${version}-linux-${process.arch}`;
  const work = path.join(dir, 'release-work');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, name, 'systemd'), { recursive: true });
  const exe = path.join(work, name, 'k3s-hostprep');
  await build({
    absWorkingDir: REPO,
    entryPoints: ['src/cli.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
    outfile: exe,
  });
  fs.chmodSync(exe, 0o755);
  fs.copyFileSync(path.join(REPO, 'README.md'), path.join(work, name, 'README.md'));
  for (const f of fs.readdirSync(path.join(REPO, 'systemd'))) {
    if (/\.(service|timer)$/.test(f)) fs.copyFileSync(path.join(REPO, 'systemd', f), path.join(work, name, 'systemd', f));
  }
  const tarball = path.join(dir, `${name}.tar.gz`);
  sh('tar', ['--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-czf', tarball, '-C', work, name]);
  fs.rmSync(work, { recursive: true, force: true });
  const sha256 = sh('sha256sum', [tarball]).split(' ')[0];
  fs.writeFileSync(`${tarball}.sha256`, `${sha256}  ${path.basename(tarball)}\n`);
  return { tarball, sha256 };
}

function writeKernel(node, values) {
  for (const [key, value] of Object.entries(values)) {
    const file = path.join(node, 'proc-sys', ...key.split('.'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${value}\n`);
  }
}

/** The mounts of one node, after scripts/sandbox-mounts.sh, then sshd in the foreground. */
const NODE_SCRIPT = `
set -eu
S="$1"
. "$2"
mount -n -t overlay overlay -o "lowerdir=/usr/local,upperdir=$S/usr-local-upper,workdir=$S/usr-local-work" /usr/local
mount -n --bind "$S/root-home" /root
mount -n --bind "$S/var-log" /var/log
mount -n --bind "$S/tmp" /tmp
exec /usr/sbin/sshd -D -e -f "$S/ssh/sshd_config"
`;

function prepareNode(dir, spec, port, id) {
  const node = path.join(dir, 'nodes', spec.name);
  for (const d of [
    'proc-sys',
    'etc-upper',
    'etc-work',
    'etc-sysctl.d',
    'var-lib',
    'run',
    'vendor-sysctl.d',
    'usr-local-upper',
    'usr-local-work',
    'root-home',
    'var-log',
    'tmp',
    'ssh',
  ]) {
    fs.mkdirSync(path.join(node, d), { recursive: true, mode: 0o755 });
  }
  fs.chmodSync(path.join(node, 'root-home'), 0o700);
  fs.chmodSync(path.join(node, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(node, 'sysctl.conf'), '');
  writeKernel(node, HOSTILE);
  // The ssh user and its sudo rule, in this node's /etc only.
  const etc = path.join(node, 'etc-upper');
  fs.writeFileSync(path.join(etc, 'passwd'), fs.readFileSync('/etc/passwd', 'utf8') + `${USER}:x:${id}:${id}:fleet operator:/var/lib/${USER}:/bin/sh\n`);
  fs.writeFileSync(path.join(etc, 'group'), fs.readFileSync('/etc/group', 'utf8') + `${USER}:x:${id}:\n`);
  // No password at all ('*': not locked for sshd, no password login); root's entry for sudo's PAM.
  fs.writeFileSync(path.join(etc, 'shadow'), `root:*:19000:0:99999:7:::\n${USER}:*:19000:0:99999:7:::\n`, { mode: 0o640 });
  fs.mkdirSync(path.join(etc, 'sudoers.d'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(etc, 'sudoers.d', USER), `Defaults:${USER} !syslog, !lecture\n${USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  const home = path.join(node, 'var-lib', USER);
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  fs.copyFileSync(path.join(dir, 'ssh', 'id_ed25519.pub'), path.join(home, '.ssh', 'authorized_keys'));
  fs.chmodSync(path.join(home, '.ssh'), 0o700);
  fs.chmodSync(path.join(home, '.ssh', 'authorized_keys'), 0o600);
  for (const p of [home, path.join(home, '.ssh'), path.join(home, '.ssh', 'authorized_keys')]) fs.chownSync(p, id, id);
  // sshd's privilege separation directory.
  fs.mkdirSync(path.join(node, 'run', 'sshd'), { mode: 0o755 });
  const key = path.join(node, 'ssh', 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', spec.name, '-f', key]);
  fs.writeFileSync(
    path.join(node, 'ssh', 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${key}`,
      'PidFile none',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin no',
      `AllowUsers ${USER}`,
      'StrictModes yes',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'MaxStartups 200:30:400',
      'MaxSessions 50',
      'LogLevel ERROR',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  if (spec.conflict) {
    fs.writeFileSync(path.join(node, 'etc-sysctl.d', '99-tuning.conf'), '# a database tuning package\nvm.overcommit_memory = 2\n');
  }
  return { node, hostKey: fs.readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ') };
}

function startNode(node) {
  const log = fs.openSync(path.join(node, 'sshd.log'), 'a');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', NODE_SCRIPT, 'node', node, MOUNTS], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  fs.closeSync(log);
  return child.pid;
}

async function waitForSsh(port, deadline) {
  for (;;) {
    const banner = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      s.setTimeout(1000);
      s.on('data', (d) => {
        got += d;
        if (got.includes('\n')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', () => resolve(null));
      s.on('timeout', () => {
        s.destroy();
        resolve(null);
      });
    });
    if (banner?.startsWith('SSH-2.0-')) return;
    if (Date.now() > deadline) throw new Error(`fleet-sim: sshd on 127.0.0.1:${port} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function inventoryYaml(dir, nodes, hostVars = {}) {
  const out = [
    'all:',
    '  vars:',
    '    ansible_host: 127.0.0.1',
    `    ansible_user: ${USER}`,
    `    ansible_ssh_private_key_file: ${JSON.stringify(path.join(dir, 'ssh', 'id_ed25519'))}`,
    '    ansible_python_interpreter: /usr/bin/python3',
    '  children:',
  ];
  for (const group of ['server', 'agent']) {
    out.push(`    ${group}:`, '      hosts:');
    for (const n of nodes.filter((x) => x.group === group)) {
      out.push(`        ${n.name}:`, `          ansible_port: ${n.port}`);
      for (const [k, v] of Object.entries({ ...(n.badConfig ? { k3s_hostprep_config: { audit: { logMaxAge: 5 } } } : {}), ...(hostVars[n.name] ?? {}) })) {
        out.push(`          ${k}: ${JSON.stringify(v)}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

export function ansibleCfg(dir, forks) {
  return [
    '[defaults]',
    `inventory = ${path.join(dir, 'inventory.yml')}`,
    `roles_path = ${path.join(REPO, 'ansible', 'roles')}`,
    `forks = ${forks}`,
    'gathering = explicit',
    'host_key_checking = True',
    'retry_files_enabled = False',
    `local_tmp = ${path.join(dir, 'ansible', 'tmp')}`,
    'nocolor = True',
    'timeout = 20',
    '',
    '[ssh_connection]',
    'pipelining = True',
    `control_path_dir = ${path.join(dir, 'cp')}`,
    `ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${path.join(dir, 'ssh', 'known_hosts')} -o IdentitiesOnly=yes`,
    '',
  ].join('\n');
}

/** The environment ansible runs with: this fleet's configuration, nothing of the user's home. */
export function ansibleEnv(dir) {
  return {
    ...process.env,
    ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg'),
    ANSIBLE_HOME: path.join(dir, 'ansible', 'home'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
  };
}

export async function up(dir, count, mix = defaultMix(count)) {
  fs.mkdirSync(path.join(dir, 'ssh'), { recursive: true, mode: 0o700 });
  for (const d of ['cp', 'ansible/tmp', 'ansible/home']) fs.mkdirSync(path.join(dir, d), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(path.join(dir, 'ssh', 'id_ed25519')))
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleet-controller', '-f', path.join(dir, 'ssh', 'id_ed25519')]);
  const ports = await freePorts(count);
  const id = freeId();
  const nodes = [];
  const known = [];
  for (const [i, spec] of mix.entries()) {
    const { node, hostKey } = prepareNode(dir, spec, ports[i], id);
    known.push(`[127.0.0.1]:${ports[i]} ${hostKey}`);
    nodes.push({ ...spec, port: ports[i], dir: node, pid: spec.unreachable ? null : startNode(node) });
  }
  fs.writeFileSync(path.join(dir, 'ssh', 'known_hosts'), known.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ nodes }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'inventory.yml'), inventoryYaml(dir, nodes));
  fs.writeFileSync(path.join(dir, 'ansible.cfg'), ansibleCfg(dir, Math.min(count, 25)));
  const deadline = Date.now() + 30_000;
  await Promise.all(nodes.filter((n) => n.pid !== null).map((n) => waitForSsh(n.port, deadline)));
  return nodes;
}

export function down(dir) {
  // The ssh connection masters ansible left (ControlPersist), then each node's sshd.
  const cp = path.join(dir, 'cp');
  for (const name of fs.existsSync(cp) ? fs.readdirSync(cp) : []) {
    spawnSync('ssh', ['-O', 'exit', '-o', `ControlPath=${path.join(cp, name)}`, 'fleet'], { stdio: 'ignore', timeout: 5000 });
  }
  const file = path.join(dir, 'fleet.json');
  if (!fs.existsSync(file)) return;
  for (const n of JSON.parse(fs.readFileSync(file, 'utf8')).nodes) {
    if (n.pid === null) continue;
    try {
      process.kill(n.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, dir, ...rest] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: fleet-sim.mjs release|up|down DIR [--nodes N]');
    process.exit(2);
  }
  fs.mkdirSync(dir, { recursive: true });
  if (command === 'release') console.log(JSON.stringify(await buildRelease(dir)));
  else if (command === 'up') {
    const i = rest.indexOf('--nodes');
    const nodes = await up(dir, i >= 0 ? Number(rest[i + 1]) : 22);
    console.log(`fleet-sim: ${nodes.filter((n) => n.pid !== null).length} nodes up, inventory ${path.join(dir, 'inventory.yml')}`);
  } else if (command === 'down') down(dir);
  else {
    console.error(`fleet-sim: unknown command ${command}`);
    process.exit(2);
  }
}
