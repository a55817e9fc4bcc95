/**
 * The README's table of a benchmark: every check, and whether k3s-hostprep writes it, judges it
 * (K3s' own default or a file K3s creates), or leaves it to the operator, with the reason. Made
 * from the same rows and writers the agent runs, so it cannot drift from them (a test compares
 * the README with it). Pure.
 */
import { defaultConfig } from '../config/load.js';
import { judgeFlags } from '../controls/benchmark.js';
import { mergeK3sConfig } from '../k3s/config-files.js';
import { dropInValues, k3sSettings } from '../k3s/settings.js';
import { parseK3sVersion, type K3sVersion } from '../k3s/version.js';
import { idsFor, rowNote, writes } from '../k3s/writers.js';
import { benchmarkRows, type BenchmarkName } from '../k3s/benchmarks/index.js';

/** A K3s line kube-bench maps to each benchmark: the flags K3s runs are predicted for it. */
export const LINE_OF: Record<BenchmarkName, string> = {
  'k3s-cis-1.23': 'v1.23',
  'k3s-cis-1.24': 'v1.24',
  'k3s-cis-1.7': 'v1.25',
  'k3s-cis-1.8': 'v1.26',
  'k3s-cis-1.9': 'v1.28',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function benchmarkTable(name: BenchmarkName): string {
  const version = parseK3sVersion(LINE_OF[name]) as K3sVersion;
  const config = defaultConfig();
  const rows = benchmarkRows(name);
  const values = dropInValues(k3sSettings(config, version, { admissionConfigFile: true, benchmark: name }), 'server');
  const merged = mergeK3sConfig([
    { path: 'drop-in', entries: Object.entries(values).map(([k, value]) => ({ key: k.replace(/\+$/, ''), append: k.endsWith('+'), value })) },
  ]);
  const after = judgeFlags(name, version, 'server', merged);
  const bare = judgeFlags(name, version, 'server', new Map());
  const written = new Map<string, string[]>();
  for (const w of writes(config, version, 'server'))
    for (const id of idsFor(rows, w))
      written.set(id, [...(written.get(id) ?? []), `${w.flag}=${w.value.length > 40 ? `${w.value.slice(0, 37)}...` : w.value}`]);
  const out = ['| id | check | scored | k3s-hostprep | why |', '|---|---|---|---|---|'];
  for (const row of rows) {
    let what: string;
    let why: string;
    const note = rowNote(row, { config });
    const r = row.reads;
    if (row.type === 'skip') [what, why] = ['leaves (kube-bench: skip)', 'kube-bench marks it not applicable to K3s (INFO)'];
    else if (row.type === 'manual') [what, why] = ['leaves (kube-bench: manual)', 'kube-bench always warns: an organisational decision'];
    else if (!row.tests || row.tests.items.length === 0) [what, why] = ['leaves', 'kube-bench defines no tests and always warns'];
    else if (
      r.kind === 'line' &&
      /--etcd-(cafile|certfile|keyfile)/.test(row.tests.items.map((i) => i.flag ?? '').join(' ')) &&
      after[row.id]?.state !== 'PASS'
    ) {
      [what, why] = [
        'judges (datastore)',
        'K3s passes etcd TLS flags only with etcd: on SQLite the report warns and names `cluster-init: true` or an external etcd',
      ];
    } else if (r.kind === 'line' && written.has(row.id)) [what, why] = ['writes', `\`${written.get(row.id)!.join('`, `')}\` in the drop-in`];
    else if (r.kind === 'line' && row.id === '4.2.6' && row.tests.items.some((i) => i.flag === '--protect-kernel-defaults'))
      [what, why] = ['writes', '`protect-kernel-defaults: true` in the drop-in, the kernel parameters it needs in 90-kubelet.conf'];
    else if (r.kind === 'line' && row.tests.items.some((i) => i.flag === '--encryption-provider-config'))
      [what, why] = ['writes', '`secrets-encryption: true` in the drop-in'];
    else if (r.kind === 'encryption-providers') [what, why] = ['writes', '`secrets-encryption: true`: K3s writes an aescbc provider'];
    else if (r.kind === 'line' && bare[row.id]?.state === 'PASS') [what, why] = ['judges', "K3s' own default passes; a configuration that changes it fails"];
    else if (r.kind === 'line' && note) [what, why] = ['leaves (knob)', note];
    else if (r.kind === 'line')
      [what, why] = ['judges', after[row.id]?.state === 'PASS' ? 'passes on what K3s runs' : `kube-bench ${after[row.id]?.state ?? 'WARN'} on what K3s runs`];
    else if (r.kind === 'mode' && r.format !== 'permissions=%a' && row.tests.items.some((i) => i.flag === 'permissions')) {
      [what, why] = ['judges', `kube-bench's audit (stat -c ${r.format}) prints no "permissions=": it never passes`];
    } else if ((r.kind === 'mode' || r.kind === 'owner') && r.path.includes('/server/tls/') && r.path.endsWith('.crt') && r.kind === 'mode') {
      [what, why] = [
        'writes (after start)',
        'K3s writes certificates 0644: apply and the service-accounts timer tighten them to 0600 once K3s has created them',
      ];
    } else if (r.kind === 'mode' || r.kind === 'owner' || r.kind === 'etcd-dir-mode')
      [what, why] = ['judges', 'the file K3s creates; "not created yet" before its first start'];
    else if (r.kind === 'etcd-config') [what, why] = ['judges (datastore)', 'embedded etcd only: the file exists with `cluster-init: true`'];
    else if (r.kind === 'cluster')
      [what, why] = ['judges (API)', note ?? 'when the API answers through /etc/rancher/k3s/k3s.yaml; otherwise "not judged", with the reason'];
    else if (r.kind === 'process') [what, why] = ['judges', note ?? "kube-bench reads containerd's process"];
    else [what, why] = ['judges', 'as kube-bench does'];
    out.push(`| ${row.id} | ${cell(row.text)} | ${row.scored ? 'yes' : 'no'} | ${what} | ${cell(why)} |`);
  }
  return out.join('\n');
}

/** Every benchmark's table, each in a <details> block, for the README. */
export function benchmarkTables(names: readonly BenchmarkName[]): string {
  return names
    .map(
      (name) =>
        `<details><summary><code>${name}</code> (K3s ${LINE_OF[name]}${name === 'k3s-cis-1.9' ? ' and newer' : ''}): ${benchmarkRows(name).length} checks</summary>\n\n${benchmarkTable(name)}\n\n</details>`,
    )
    .join('\n\n');
}
