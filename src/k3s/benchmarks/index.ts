/**
 * The kube-bench benchmarks k3s-hostprep judges with, and which one a node gets: exactly as
 * kube-bench's cmd/util.go k3sBenchmark picks it from the K3s line (1.22-1.23 -> k3s-cis-1.23,
 * 1.24 -> k3s-cis-1.24, 1.25 -> k3s-cis-1.7, 1.26 -> k3s-cis-1.8, anything else -> k3s-cis-1.9),
 * unless --benchmark or the configuration's benchmark key names one.
 */
import type { BenchRow } from '../rows.js';
import type { K3sVersion } from '../version.js';
import { K3S_CIS_1_23 } from './k3s-cis-1.23.js';
import { K3S_CIS_1_24 } from './k3s-cis-1.24.js';
import { K3S_CIS_1_7 } from './k3s-cis-1.7.js';
import { K3S_CIS_1_8 } from './k3s-cis-1.8.js';
import { K3S_CIS_1_9 } from './k3s-cis-1.9.js';

import { BENCHMARK_NAMES, isBenchmarkName, type BenchmarkName } from './names.js';

export { BENCHMARK_NAMES, isBenchmarkName, type BenchmarkName };

/**
 * The rows of one benchmark, read only when asked for: a run judges with one benchmark, and the
 * bundle (scripts/bundle.mjs) makes each benchmark's rows a chunk of its own that loads on the
 * first read of its export, so the other four are never parsed.
 */
export function benchmarkRows(name: BenchmarkName): readonly BenchRow[] {
  switch (name) {
    case 'k3s-cis-1.23':
      return K3S_CIS_1_23;
    case 'k3s-cis-1.24':
      return K3S_CIS_1_24;
    case 'k3s-cis-1.7':
      return K3S_CIS_1_7;
    case 'k3s-cis-1.8':
      return K3S_CIS_1_8;
    case 'k3s-cis-1.9':
      return K3S_CIS_1_9;
  }
}

/** kube-bench's k3sBenchmark, on "1.<minor>". */
export function k3sBenchmark(version: K3sVersion): BenchmarkName {
  switch (`${version.major}.${version.minor}`) {
    case '1.22':
    case '1.23':
      return 'k3s-cis-1.23';
    case '1.24':
      return 'k3s-cis-1.24';
    case '1.25':
      return 'k3s-cis-1.7';
    case '1.26':
      return 'k3s-cis-1.8';
    default:
      return 'k3s-cis-1.9';
  }
}

export interface BenchmarkChoice {
  name: BenchmarkName;
  /** Why, in words for the report. */
  source: string;
}

/** --benchmark, then the configuration's benchmark, then kube-bench's own choice for the K3s line. */
export function chooseBenchmark(
  flag: string | undefined,
  config: { benchmark?: string; source: string },
  version: K3sVersion,
): BenchmarkChoice | { error: string; where: string } {
  const named = (name: string, source: string, where: string): BenchmarkChoice | { error: string; where: string } =>
    isBenchmarkName(name) ? { name, source } : { error: `unknown benchmark ${JSON.stringify(name)}; expected one of ${BENCHMARK_NAMES.join(', ')}`, where };
  if (flag !== undefined) return named(flag, '--benchmark', '--benchmark');
  if (config.benchmark !== undefined) return named(config.benchmark, `benchmark in ${config.source}`, `${config.source}: benchmark`);
  const name = k3sBenchmark(version);
  return { name, source: `kube-bench's choice for K3s v${version.major}.${version.minor} (its cmd/util.go k3sBenchmark)` };
}
