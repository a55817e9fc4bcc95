/**
 * Which checks of the selected benchmark a control serves, named by what the check tests (a
 * flag, a plugin) or by its text, never by a number: numbers differ between benchmarks (the
 * API server's profiling check is 1.2.18 in k3s-cis-1.24 and 1.2.15 in k3s-cis-1.9), and a
 * check some benchmarks dropped (protect-kernel-defaults after k3s-cis-1.24) has no id there.
 */
import type { Context } from '../../controls/types.js';
import { benchmarkOf } from './select.js';
import { benchmarkRows, type BenchmarkName } from './index.js';

export type CheckRef = { flag: string; value?: string } | { text: RegExp };

/** The ids one reference names in a benchmark, worked out once per reference and benchmark (every run and watch cycle asks). */
const IDS = new WeakMap<CheckRef, Map<BenchmarkName, string[]>>();

function idsOf(name: BenchmarkName, ref: CheckRef): string[] {
  let byBenchmark = IDS.get(ref);
  if (!byBenchmark) {
    byBenchmark = new Map();
    IDS.set(ref, byBenchmark);
  }
  let ids = byBenchmark.get(name);
  if (!ids) {
    ids = [];
    for (const row of benchmarkRows(name)) {
      const hit =
        'text' in ref
          ? ref.text.test(row.text)
          : (row.tests?.items ?? []).some((t) => t.flag === ref.flag && (ref.value === undefined || t.value === ref.value));
      if (hit && !ids.includes(row.id)) ids.push(row.id);
    }
    byBenchmark.set(name, ids);
  }
  return ids;
}

export function checkIds(name: BenchmarkName, refs: readonly CheckRef[]): string[] {
  const ids: string[] = [];
  for (const ref of refs) {
    for (const id of idsOf(name, ref)) if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The ids, joined for a report's cis field; undefined when the benchmark has no such check. */
export function cisOf(ctx: Pick<Context, 'k3s' | 'benchmark'>, refs: readonly CheckRef[]): string | undefined {
  const ids = checkIds(benchmarkOf(ctx).name, refs);
  return ids.length > 0 ? ids.join(', ') : undefined;
}

/** The checks each host-level control serves. */
export const CHECKS = {
  auditPolicy: [{ text: /minimal audit policy/i }],
  auditLogDir: [{ flag: '--audit-log-path' }],
  /** The kubelet refuses kernel values it would change: what the kernel parameters are set for. */
  protectKernelDefaults: [{ flag: '--protect-kernel-defaults' }],
  networkPolicy: [{ text: /all Namespaces have NetworkPolicies defined/i }],
  podSecurity: [{ text: /active policy control mechanism/i }],
  eventRateLimit: [{ flag: '--enable-admission-plugins', value: 'EventRateLimit' }],
} satisfies Record<string, readonly CheckRef[]>;
