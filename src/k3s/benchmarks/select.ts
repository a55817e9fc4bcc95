/** The benchmark a run judges with: chosen once at the edge (Context.benchmark), else kube-bench's choice for the version. */
import { k3sVersionOf } from '../node.js';
import type { K3sVersionChoice } from '../version.js';
import { k3sBenchmark, type BenchmarkChoice } from './index.js';

export function benchmarkOf(ctx: { k3s: K3sVersionChoice; benchmark?: BenchmarkChoice }): BenchmarkChoice {
  if (ctx.benchmark) return ctx.benchmark;
  const { version } = k3sVersionOf(ctx);
  return { name: k3sBenchmark(version), source: `kube-bench's choice for K3s v${version.major}.${version.minor}` };
}
