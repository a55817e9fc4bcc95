#!/usr/bin/env node
/**
 * Development tool, not shipped: derives k3s-hostprep's benchmark rows from a checkout of
 * aquasecurity/kube-bench (cfg/k3s-cis-*), so that each check is one row of data.
 *
 *   node scripts/kube-bench-rows.mjs /path/to/kube-bench.git [commit]
 *
 * The checkout may be a bare git directory (read with `git show`). For every check it keeps the
 * facts an operator sees in kube-bench's output (id, text, type, scored, the tests with their
 * operators) and classifies the audit command into what it reads (a component's "Running ..."
 * journal line and the greps after it, a file's mode or owner, the cluster through kubectl). The
 * audit commands themselves are not copied. Writes src/k3s/benchmarks/<name>.ts.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

const [repo, commit = 'HEAD'] = process.argv.slice(2);
if (!repo) {
  process.stderr.write('usage: node scripts/kube-bench-rows.mjs KUBE_BENCH_GIT_DIR [COMMIT]\n');
  process.exit(2);
}
const show = (p) =>
  execFileSync('git', ['--git-dir', fs.existsSync(path.join(repo, '.git')) ? path.join(repo, '.git') : repo, 'show', `${commit}:${p}`], { encoding: 'utf8' });
const resolved = execFileSync('git', ['--git-dir', fs.existsSync(path.join(repo, '.git')) ? path.join(repo, '.git') : repo, 'rev-parse', commit], {
  encoding: 'utf8',
}).trim();

export const BENCHMARKS = ['k3s-cis-1.23', 'k3s-cis-1.24', 'k3s-cis-1.7', 'k3s-cis-1.8', 'k3s-cis-1.9'];
const FILES = ['master', 'controlplane', 'etcd', 'node', 'policies'];

/** The paths kube-bench substitutes on a K3s node (the benchmark's config.yaml over cfg/config.yaml). */
function variables(name) {
  const kubeletconfIsKubeconfig = name === 'k3s-cis-1.8' || name === 'k3s-cis-1.9';
  return {
    $kubeletconf: kubeletconfIsKubeconfig ? '/var/lib/rancher/k3s/agent/kubelet.kubeconfig' : '/var/lib/kubelet/config.yaml',
    $kubeletkubeconfig: '/var/lib/rancher/k3s/agent/kubelet.kubeconfig',
    $kubeletcafile: '/var/lib/rancher/k3s/agent/client-ca.crt',
    $proxykubeconfig: '/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig',
    $schedulerkubeconfig: '/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig',
    $controllermanagerkubeconfig: '/var/lib/rancher/k3s/server/cred/controller.kubeconfig',
    $etcddatadir: '/var/lib/rancher/k3s/server/db/etcd',
    $etcdconf: '/var/lib/rancher/k3s/server/db/etcd/config',
  };
}

const COMPONENTS = [
  ['Running kube-apiserver', 'kube-apiserver'],
  ['Running kube-controller-manager', 'kube-controller-manager'],
  ['Running kube-scheduler', 'kube-scheduler'],
  ['Running kubelet', 'kubelet'],
  ['Running kube-proxy', 'kube-proxy'],
];

function substitute(text, vars) {
  let out = text ?? '';
  for (const [k, v] of Object.entries(vars).sort((a, b) => b[0].length - a[0].length)) out = out.split(k).join(v);
  return out;
}

/** What an audit reads, as data. */
function classify(audit, auditConfig) {
  const a = audit.replace(/\s+/g, ' ').trim();
  if (/etcd\/config/.test(a) || (a === '' && /etcd\/config/.test(auditConfig))) return { kind: 'etcd-config', grep: a !== '' };
  if (a === '') return auditConfig ? classifyConfigOnly(auditConfig) : { kind: 'none' };
  if (/kubectl/.test(a)) {
    const m = /kubectl get (\S+)/.exec(a);
    return { kind: 'cluster', objects: m ? m[1] : 'objects' };
  }
  if (/encryption-provider-config/.test(a) && /providers/.test(a)) return { kind: 'encryption-providers' };
  if (/Managed etcd cluster/.test(a) && /stat/.test(a))
    return { kind: 'etcd-dir-mode', path: '/var/lib/rancher/k3s/server/db/etcd', fallback: /echo "([^"]*)"/.exec(a)?.[1] ?? '' };
  const comp = COMPONENTS.filter(([needle]) => a.includes(needle));
  if (comp.length > 0) {
    const read = { kind: 'line', component: comp[comp.length - 1][1] };
    const units = /journalctl -m -u k3s -u k3s-agent/.test(a.split(comp[comp.length - 1][0])[0]) ? ['k3s', 'k3s-agent'] : ['k3s'];
    read.units = units;
    if (/grep -m1 'Running/.test(a) || /grep\s+-m1 'Running/.test(a)) read.which = 'first';
    if (/grep -A1 'Running kube-apiserver' \| tail -n2/.test(a)) read.nextLine = true;
    // Greps after the line is taken: each must match, or the pipeline exits 1.
    const after = a
      .split(/tail -n[12]/)
      .slice(1)
      .join(' ');
    read.greps = [...after.matchAll(/grep( -o)?( --)? (?:'([^']*)'|"([^"]*)")/g)]
      .map((m) => ({ pattern: m[3] ?? m[4], only: m[1] !== undefined }))
      .filter((g) => g.pattern !== 'grep');
    if (/grep -v grep/.test(after)) read.greps.push({ pattern: 'grep', invert: true });
    const fallback = /else echo "([^"]*)"/.exec(a);
    if (fallback) {
      read.fallback = fallback[1];
      read.fallbackWhen = /Managed etcd cluster/.test(a) ? 'no-managed-etcd' : 'no-line';
      if (read.fallbackWhen === 'no-line') {
        const counted = COMPONENTS.find(([needle]) => new RegExp(`test \\$?\\(?"?\\$\\(journalctl[^)]*grep\\s+"${needle}"`).test(a));
        read.countUnits = /test[^;]*journalctl -m -u k3s -u k3s-agent/.test(a) ? ['k3s', 'k3s-agent'] : ['k3s'];
        if (counted) read.countComponent = counted[1];
      }
    }
    if (auditConfig) Object.assign(read, { config: classifyConfigOnly(auditConfig) });
    return read;
  }
  if (/ps -ef|ps -fC/.test(a)) return { kind: 'process', ...(auditConfig ? { config: classifyConfigOnly(auditConfig) } : {}) };
  const ifExists = /if test -e/.test(a);
  let m = /find (\S+) -type f( ! -name lock)?/.exec(a);
  if (m)
    return {
      kind: /%U:%G/.test(a) ? 'owner' : 'mode',
      path: `${m[1]}/*`,
      format: /%U:%G/.test(a) ? '%U:%G' : 'permissions=%a',
      ifExists: true,
      skipLock: m[2] !== undefined,
      find: true,
    };
  m = /stat -c (permissions=%a|%a|%U:%G|%n %a) (\S+?)(;|'|$| )/.exec(a);
  if (m) return { kind: m[1] === '%U:%G' ? 'owner' : 'mode', path: m[2], format: m[1], ifExists };
  m = /find (\S+)/.exec(a);
  if (m) return { kind: /%U:%G/.test(a) ? 'owner' : 'mode', path: `${m[1]}`, format: 'permissions=%a', ifExists, find: true, recursive: true };
  return { kind: 'unsupported' };
}

function classifyConfigOnly(auditConfig) {
  const a = auditConfig.replace(/\s+/g, ' ').trim();
  const m = /cat (\S+?)(;|'|$| )/.exec(a);
  return { kind: 'file-content', path: m ? m[1] : '', ifExists: /if test -e/.test(a) };
}

function testsOf(tests) {
  if (!tests?.test_items) return null;
  return {
    binOp: tests.bin_op ?? 'and',
    items: tests.test_items.map((t) => ({
      ...(t.flag !== undefined ? { flag: String(t.flag) } : {}),
      ...(t.path !== undefined ? { path: String(t.path) } : {}),
      set: t.set === undefined ? true : Boolean(t.set),
      ...(t.compare ? { op: String(t.compare.op), value: String(t.compare.value ?? '') } : {}),
    })),
  };
}

function rowsOf(name) {
  const vars = variables(name);
  const rows = [];
  for (const file of FILES) {
    let doc;
    try {
      doc = parse(show(`cfg/${name}/${file}.yaml`));
    } catch {
      continue;
    }
    for (const group of doc.groups ?? []) {
      for (const c of group.checks ?? []) {
        const audit = substitute(String(c.audit ?? ''), vars);
        const auditConfig = substitute(String(c.audit_config ?? ''), vars);
        rows.push({
          id: String(c.id),
          text: String(c.text).replace(/\s*\((Automated|Manual)\)\s*$/, ''),
          automated: /\(Automated\)\s*$/.test(String(c.text)) ? true : /\(Manual\)\s*$/.test(String(c.text)) ? false : c.type !== 'manual',
          type: c.type === 'skip' ? 'skip' : c.type === 'manual' ? 'manual' : 'automated',
          scored: Boolean(c.scored),
          target:
            doc.type === 'node'
              ? 'node'
              : doc.type === 'policies'
                ? 'policies'
                : doc.type === 'etcd'
                  ? 'etcd'
                  : doc.type === 'controlplane'
                    ? 'controlplane'
                    : 'master',
          multi: Boolean(c.use_multiple_values),
          reads: c.type === 'skip' || c.type === 'manual' ? { kind: 'none' } : classify(audit, auditConfig),
          tests: c.type === 'skip' || c.type === 'manual' ? null : testsOf(c.tests),
        });
      }
    }
  }
  return rows;
}

const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'k3s', 'benchmarks');
fs.mkdirSync(outDir, { recursive: true });
for (const name of BENCHMARKS) {
  const rows = rowsOf(name);
  const unsupported = rows.filter((r) => r.reads.kind === 'unsupported').map((r) => r.id);
  if (unsupported.length) process.stderr.write(`${name}: audits not classified: ${unsupported.join(', ')}\n`);
  const ident = name.replace(/[^a-z0-9]/gi, '_').toUpperCase();
  const body = [
    `/**`,
    ` * The checks of kube-bench's ${name} benchmark as data: one row per check. Derived by`,
    ` * scripts/kube-bench-rows.mjs from aquasecurity/kube-bench cfg/${name} at ${resolved};`,
    ` * regenerate rather than edit.`,
    ` */`,
    `import type { BenchRow } from '../rows.js';`,
    ``,
    `export const ${ident}: readonly BenchRow[] = ${JSON.stringify(rows, null, 1)};`,
    ``,
  ].join('\n');
  fs.writeFileSync(path.join(outDir, `${name}.ts`), body);
  process.stdout.write(`${name}: ${rows.length} checks\n`);
}
