/**
 * The agent's verdict per check id against kube-bench's, on a table of host states, for every
 * supported benchmark. The expected states are NOT taken from the agent's rows: they were read
 * off kube-bench's cfg/<benchmark>/{master,node,policies}.yaml (each check's id, type, scored
 * flag, audit and tests) and its Go semantics (check/check.go: skip is INFO, manual is WARN, a
 * failing test is FAIL when scored and WARN otherwise; check/test.go: the first "--flag=value"
 * of the audited line, the value running to the next blank, so the logged line's closing quote
 * belongs to its last flag). The journal lines below are written as K3s logs them.
 *
 * Two documented differences, and only these: a check the datastore decides (the etcd TLS flags
 * on SQLite) that kube-bench FAILs is a WARN naming the fix (cluster-init: true or an external
 * etcd); a file check before K3s' first start, which no scan can run yet, says "not created yet".
 */
import test from 'ava';
import * as fs from 'node:fs';
import { parseConfig } from '../../src/config/load.js';
import { auditPolicy } from '../../src/controls/audit-policy.js';
import { benchmark, type Observed } from '../../src/controls/benchmark.js';
import { k3sConfig } from '../../src/controls/k3s-config.js';
import { podSecurity } from '../../src/controls/pod-security.js';
import type { Context, Control, Finding, Role } from '../../src/controls/types.js';
import { benchmarkOf } from '../../src/k3s/benchmarks/select.js';
import { COMPLIANT } from '../helpers/sandbox.js';
import { TestHost, context } from '../helpers/test-host.js';

type KB = 'PASS' | 'FAIL' | 'WARN' | 'INFO';
/** What a check is about, to find its id in each benchmark. */
type Key =
  | 'anonApi'
  | 'profiling'
  | 'nodeRestriction'
  | 'eventRateLimit'
  | 'auditMaxAge'
  | 'etcdCafile'
  | 'pkd'
  | 'readOnlyPort'
  | 'kubeletAnon'
  | 'certs'
  | 'defaultSa';

interface Bench {
  name: string;
  /** A K3s version kube-bench's k3sBenchmark maps to this benchmark. */
  k3s: string;
  /** The check's id, whether it is scored, and its kube-bench type (auto, manual, skip), from the cfg; absent: no such check. */
  ids: Partial<Record<Key, { id: string; scored: boolean; type: 'auto' | 'manual' | 'skip' }>>;
  /** Audits that read only the k3s unit's journal (journalctl -m -u k3s): on an agent they print nothing and fail. */
  serverUnitOnly?: Key[];
  /** Audits that never print what their test looks for (1.23's 1.1.20 runs `stat -c %n %a`, unquoted: no "permissions"). */
  neverPasses?: Key[];
}

const a = (id: string, scored: boolean, type: 'auto' | 'manual' | 'skip' = 'auto') => ({ id, scored, type });

const BENCHES: Bench[] = [
  {
    name: 'k3s-cis-1.23',
    k3s: 'v1.23.17+k3s1',
    ids: {
      anonApi: a('1.2.1', false, 'manual'),
      profiling: a('1.2.18', true),
      nodeRestriction: a('1.2.16', true),
      eventRateLimit: a('1.2.10', false),
      auditMaxAge: a('1.2.20', true, 'skip'),
      etcdCafile: a('1.2.29', true),
      pkd: a('4.2.6', true, 'skip'),
      readOnlyPort: a('4.2.4', false),
      kubeletAnon: a('4.2.1', true),
      certs: a('1.1.20', false),
    },
    serverUnitOnly: ['readOnlyPort', 'pkd'],
    neverPasses: ['certs'],
  },
  {
    name: 'k3s-cis-1.24',
    k3s: 'v1.24.17+k3s1',
    ids: {
      anonApi: a('1.2.1', true),
      profiling: a('1.2.18', true),
      nodeRestriction: a('1.2.16', true),
      eventRateLimit: a('1.2.10', false),
      auditMaxAge: a('1.2.20', false),
      etcdCafile: a('1.2.29', true),
      pkd: a('4.2.6', true),
      readOnlyPort: a('4.2.4', true),
      kubeletAnon: a('4.2.1', true),
      certs: a('1.1.20', false),
    },
  },
  {
    name: 'k3s-cis-1.7',
    k3s: 'v1.25.16+k3s4',
    ids: {
      anonApi: a('1.2.1', true),
      profiling: a('1.2.17', true),
      nodeRestriction: a('1.2.15', true),
      eventRateLimit: a('1.2.9', false),
      auditMaxAge: a('1.2.19', false),
      etcdCafile: a('1.2.28', true),
      readOnlyPort: a('4.2.4', true),
      kubeletAnon: a('4.2.1', true),
      certs: a('1.1.20', false),
    },
  },
  {
    name: 'k3s-cis-1.8',
    k3s: 'v1.26.15+k3s1',
    ids: {
      anonApi: a('1.2.1', true),
      profiling: a('1.2.16', true),
      nodeRestriction: a('1.2.15', true),
      eventRateLimit: a('1.2.9', false),
      auditMaxAge: a('1.2.18', false),
      etcdCafile: a('1.2.27', true),
      readOnlyPort: a('4.2.4', true),
      kubeletAnon: a('4.2.1', true),
      certs: a('1.1.20', false),
    },
  },
  {
    name: 'k3s-cis-1.9',
    k3s: 'v1.28.5+k3s1',
    ids: {
      anonApi: a('1.2.1', true),
      profiling: a('1.2.15', true),
      nodeRestriction: a('1.2.14', true),
      eventRateLimit: a('1.2.9', false),
      auditMaxAge: a('1.2.17', false),
      etcdCafile: a('1.2.26', true),
      readOnlyPort: a('4.2.4', true),
      kubeletAnon: a('4.2.1', true),
      certs: a('1.1.20', true),
      defaultSa: a('5.1.5', true),
    },
  },
];

/** kube-bench's state for a check whose tests pass (true) or fail (false), by its type and scored flag. */
function kb(check: { scored: boolean; type: string }, passes: boolean): KB {
  if (check.type === 'skip') return 'INFO';
  if (check.type === 'manual') return 'WARN';
  return passes ? 'PASS' : check.scored ? 'FAIL' : 'WARN';
}

const SERVER_KEYS: Key[] = ['anonApi', 'profiling', 'nodeRestriction', 'eventRateLimit', 'auditMaxAge', 'etcdCafile', 'certs', 'defaultSa'];

interface State {
  name: string;
  role: Role;
  /** Sets the host up after a default apply. */
  setup?: (host: TestHost, bench: Bench) => void;
  config?: string;
  observed?: (bench: Bench) => Observed;
  /** Whether each check's tests pass on what kube-bench will read; absent keys are not asserted. */
  passes: Partial<Record<Key, boolean>>;
  beforeFirstStart?: boolean;
}

const UNIT = '/etc/systemd/system/k3s.service';
const UNIT_TEXT = '[Service]\nType=notify\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=/usr/local/bin/k3s \\\n    server \\\n';
const AGENT_UNIT = '/etc/systemd/system/k3s-agent.service';

/** A K3s journal line as logrus writes it under systemd. */
const line = (component: string, flags: string[]) => `time="2026-12-02T08:00:00Z" level=info msg="Running ${component} ${flags.join(' ')}"`;

/** K3s has run: its certificates (0644 as it writes them), the kubelet's kubeconfig. */
function started(host: TestHost, role: Role): void {
  if (role === 'server')
    for (const c of ['client-ca.crt', 'server-ca.crt', 'serving-kube-apiserver.crt']) host.write(`/var/lib/rancher/k3s/server/tls/${c}`, 'cert\n', 0o644);
  host.write('/var/lib/rancher/k3s/agent/kubelet.kubeconfig', 'apiVersion: v1\nkind: Config\n', 0o600);
}

const STATES: State[] = [
  {
    name: 'server, default apply, before the first start',
    role: 'server',
    beforeFirstStart: true,
    passes: {
      anonApi: true,
      profiling: true,
      nodeRestriction: true,
      eventRateLimit: true,
      auditMaxAge: true,
      etcdCafile: false,
      pkd: true,
      readOnlyPort: true,
      kubeletAnon: true,
      certs: false,
    },
  },
  {
    name: 'agent, default apply, before the first start',
    role: 'agent',
    beforeFirstStart: true,
    // profiling and certs are master checks: asserted absent on an agent.
    passes: { pkd: true, readOnlyPort: true, kubeletAnon: true, profiling: true, certs: false },
  },
  {
    name: 'server after the first start: certificates 0644 as K3s writes them, K3s stopped',
    role: 'server',
    setup: (host) => started(host, 'server'),
    passes: { profiling: true, etcdCafile: false, certs: false, readOnlyPort: true },
  },
  {
    name: 'server after the first start, certificates tightened by apply',
    role: 'server',
    setup: (host) => {
      started(host, 'server');
      for (const c of ['client-ca.crt', 'server-ca.crt', 'serving-kube-apiserver.crt']) fs.chmodSync(host.file(`/var/lib/rancher/k3s/server/tls/${c}`), 0o600);
    },
    passes: { certs: true, profiling: true },
  },
  {
    name: 'stale running K3s: the journal has lines from before the drop-in (profiling on, read-only port open)',
    role: 'server',
    setup: (host) => started(host, 'server'),
    observed: () => ({
      active: true,
      managedEtcd: false,
      cluster: null,
      clusterWhy: 'test: the API is not asked',
      journal: {
        k3s: [
          line('kube-apiserver', [
            '--advertise-port=6443',
            '--anonymous-auth=false',
            '--enable-admission-plugins=NodeRestriction',
            '--profiling=true',
            '--tls-private-key-file=/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.key',
          ]),
          line('kubelet', [
            '--anonymous-auth=false',
            '--protect-kernel-defaults=true',
            '--read-only-port=10255',
            '--tls-private-key-file=/var/lib/rancher/k3s/agent/serving-kubelet.key',
          ]),
        ],
      },
    }),
    passes: {
      profiling: false,
      readOnlyPort: false,
      nodeRestriction: true,
      anonApi: true,
      eventRateLimit: false,
      auditMaxAge: false,
      kubeletAnon: true,
      pkd: true,
    },
  },
  ...[false, true].map(
    (compliant): State => ({
      name: `the API answers through k3s.yaml; the default ServiceAccount of "default" ${compliant ? 'no longer automounts' : 'still automounts'}`,
      role: 'server',
      setup: (host) => started(host, 'server'),
      observed: () => ({
        active: false,
        managedEtcd: false,
        clusterWhy: '',
        cluster: {
          // kube-bench's 5.1.5 audit prints one such line per default ServiceAccount.
          serviceaccounts: [
            `**namespace: default              service_account: default    automountServiceAccountToken: ${compliant ? 'false ' : 'notset'} is_compliant: ${compliant}`,
            '**namespace: kube-system          service_account: default    automountServiceAccountToken: notset is_compliant: true',
          ].join('\n'),
        },
        journal: {},
      }),
      passes: { defaultSa: compliant },
    }),
  ),
  {
    name: 'the API does not answer: 5.1.5 is not judged, and says why',
    role: 'server',
    setup: (host) => started(host, 'server'),
    passes: {},
  },
  {
    name: 'fooling: k3s.service.d/override.conf resets ExecStart= with --protect-kernel-defaults=false and --kube-apiserver-arg=profiling=true',
    role: 'server',
    setup: (host) =>
      host.write(
        '/etc/systemd/system/k3s.service.d/override.conf',
        '[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s server --protect-kernel-defaults=false --kube-apiserver-arg=profiling=true\n',
      ),
    passes: { pkd: false, profiling: false, nodeRestriction: true },
  },
  {
    name: 'fooling: --config /etc/k3s/alt.yaml in the unit: config.yaml.d (our drop-in) is not read',
    role: 'server',
    setup: (host) => {
      host.write(UNIT, `${UNIT_TEXT}    --config /etc/k3s/alt.yaml \\\n`);
      host.write('/etc/k3s/alt.yaml', 'kube-apiserver-arg: [profiling=true]\n', 0o600);
    },
    passes: { profiling: false, eventRateLimit: false, auditMaxAge: false, nodeRestriction: true, pkd: false },
  },
  {
    name: "fooling: K3S_CONFIG_FILE in the unit's environment file",
    role: 'server',
    setup: (host) => {
      host.write('/etc/systemd/system/k3s.service.env', 'K3S_CONFIG_FILE=/etc/k3s/alt.yaml\n', 0o600);
      host.write('/etc/k3s/alt.yaml', 'write-kubeconfig-mode: "0600"\n', 0o600);
    },
    passes: { eventRateLimit: false, auditMaxAge: false, profiling: true, pkd: false },
  },
  {
    name: 'fooling: two kube-apiserver-arg+ keys in one file, the first turning anonymous auth on',
    role: 'server',
    setup: (host) =>
      host.write(
        '/etc/rancher/k3s/config.yaml.d/95-site.yaml',
        'kube-apiserver-arg+:\n  - anonymous-auth=true\nkube-apiserver-arg+:\n  - audit-log-maxage=60\n',
        0o600,
      ),
    passes: { anonApi: false, auditMaxAge: true, profiling: true },
  },
  {
    name: 'fooling: a dangling 50-rancher.yaml beside a config.yaml that turns profiling on',
    role: 'server',
    setup: (host) => {
      host.write('/etc/rancher/k3s/config.yaml', 'kube-apiserver-arg: [profiling=true]\n', 0o600);
      fs.symlinkSync('/nonexistent', host.file('/etc/rancher/k3s/config.yaml.d/50-rancher.yaml'));
    },
    passes: { profiling: false, nodeRestriction: true },
  },
  {
    name: "kube-bench reads the first --enable-admission-plugins: config.yaml's comes before the drop-in's",
    role: 'server',
    setup: (host) => host.write('/etc/rancher/k3s/config.yaml', 'kube-apiserver-arg: [enable-admission-plugins=PodNodeSelector]\n', 0o600),
    passes: { nodeRestriction: false, eventRateLimit: false, profiling: true },
  },
];

async function prepare(bench: Bench, state: State): Promise<Context> {
  const host = new TestHost(COMPLIANT);
  host.write(state.role === 'server' ? UNIT : AGENT_UNIT, state.role === 'server' ? UNIT_TEXT : UNIT_TEXT.replace('server', 'agent'));
  const ctx = context(host, { k3s: bench.k3s, role: state.role, ...(state.config ? { config: parseConfig(state.config, 'c.yaml') } : {}) });
  for (const c of [auditPolicy, podSecurity, k3sConfig] as Control[]) {
    if (!c.roles.includes(state.role)) continue;
    const outcome = await c.apply(ctx, c.plan(ctx));
    if (outcome.hostErrors.length > 0) throw new Error(outcome.hostErrors.join('; '));
  }
  state.setup?.(host, bench);
  if (state.observed) ctx.observed = state.observed(bench);
  return ctx;
}

/** Whether the agent's finding agrees with kube-bench's state, within the two documented differences. */
function agrees(expected: KB, f: Finding, key: Key, state: State): boolean {
  const status = { PASS: 'pass', FAIL: 'fail', WARN: 'warn', INFO: 'skip' }[expected];
  if (f.status === status) return true;
  if (expected === 'FAIL' && key === 'etcdCafile') return f.status === 'warn' && /cluster-init: true/.test(f.reason);
  if (key === 'certs' && state.beforeFirstStart) return f.status === 'skip' && /not created yet/.test(f.reason);
  return false;
}

for (const bench of BENCHES) {
  for (const state of STATES) {
    test(`${bench.name}: ${state.name}`, async (t) => {
      const ctx = await prepare(bench, state);
      t.is(benchmarkOf(ctx).name as string, bench.name, "kube-bench's choice for the version");
      const findings = benchmark.verify(ctx);
      let compared = 0;
      for (const [key, passes] of Object.entries(state.passes) as Array<[Key, boolean]>) {
        const check = bench.ids[key];
        if (!check) continue;
        const f = findings.find((x) => x.cis === check.id);
        if (state.role === 'agent' && SERVER_KEYS.includes(key)) {
          t.is(f, undefined, `${check.id}: kube-bench --targets node does not run it on an agent`);
          continue;
        }
        t.truthy(f, `${check.id} is judged`);
        const blind = (state.role === 'agent' && bench.serverUnitOnly?.includes(key)) || bench.neverPasses?.includes(key);
        const expected = kb(check, passes && !blind);
        t.true(agrees(expected, f!, key, state), `${check.id} (${key}): kube-bench ${expected}, the agent ${f!.status}: ${f!.reason}`);
        compared++;
      }
      if (Object.keys(state.passes).length === 0) {
        const sa = findings.find((x) => x.cis === '5.1.5');
        if (bench.ids.defaultSa) t.regex(sa!.reason, /^not judged: /);
        else t.pass();
      } else t.true(compared >= 1 || !Object.keys(state.passes).some((k) => bench.ids[k as Key]));
    });
  }
}

test('k3s-cis-1.9 on K3s v1.32.2: the kubelet line lost --read-only-port=0; pinned by the drop-in, and a K3s still running without it is told to restart', async (t) => {
  const bench = { ...BENCHES.find((b) => b.name === 'k3s-cis-1.9')!, k3s: 'v1.32.2+k3s1' };
  const state: State = { name: 'v1.32.2', role: 'agent', setup: (host) => started(host, 'agent'), passes: {} };
  const ctx = await prepare(bench, state);
  t.is(benchmark.verify(ctx).find((f) => f.cis === '4.2.4')!.status, 'pass', 'the next start logs --read-only-port=0');
  // What K3s v1.32.2 logged before the drop-in (its kubelet settings in a config file, no read-only-port):
  // kube-bench's audit greps -o for "--read-only-port=0", prints nothing and fails the scored check.
  ctx.observed = {
    active: true,
    managedEtcd: false,
    cluster: null,
    clusterWhy: 'an agent',
    journal: {
      'k3s-agent': [
        line('kubelet', [
          '--cloud-provider=external',
          '--config-dir=/var/lib/rancher/k3s/agent/etc/kubelet.conf.d',
          '--containerd=/run/k3s/containerd/containerd.sock',
          '--hostname-override=node',
          '--kubeconfig=/var/lib/rancher/k3s/agent/kubelet.kubeconfig',
          '--node-labels=',
        ]),
      ],
    },
  };
  const f = benchmark.verify(ctx).find((x) => x.cis === '4.2.4')!;
  t.is(f.status, 'fail');
  t.regex(f.reason, /a scan now: FAIL; after a restart: PASS\): restart K3s/);
});
