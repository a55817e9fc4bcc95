/** The names of the supported benchmarks, apart from their rows so that validating a configuration loads no rows. */
export const BENCHMARK_NAMES = ['k3s-cis-1.23', 'k3s-cis-1.24', 'k3s-cis-1.7', 'k3s-cis-1.8', 'k3s-cis-1.9'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export function isBenchmarkName(name: string): name is BenchmarkName {
  return (BENCHMARK_NAMES as readonly string[]).includes(name);
}
