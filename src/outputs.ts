/**
 * Files a run leaves for others: the node_exporter textfile-collector file and the JUnit report.
 * Both are written atomically (temporary file in the same directory, then rename): node_exporter
 * reads only names ending in .prom, so it never sees a half-written file.
 */
import * as path from 'node:path';
import type { Host } from './host/host.js';
import { NodeHost } from './host/node-host.js';

/** Writes the metrics file, creating missing parent directories (0755) on the way. */
export function writeMetricsFile(host: Host, logical: string, text: string): void {
  const missing: string[] = [];
  for (let dir = path.posix.dirname(logical); dir !== '/' && host.lstat(dir) === null; dir = path.posix.dirname(dir)) missing.unshift(dir);
  for (const dir of missing) host.mkdir(dir, 0o755);
  host.writeFileAtomic(logical, text, { mode: 0o644, uid: host.euid, gid: process.getegid?.() ?? 0 });
}

/** Writes a report file named on the command line (a path on this machine, not under --root). */
export function writeLocalFile(file: string, text: string): void {
  const local = new NodeHost('/', false);
  local.writeFileAtomic(path.resolve(file), text, { mode: 0o644, uid: local.euid, gid: process.getegid?.() ?? 0 });
}
