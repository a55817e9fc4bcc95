/**
 * A host whose files live under a temporary root and whose kernel is a map: the controls'
 * logic without a mount namespace. The sysctl stand-in parses the file it is given the way
 * sysctl -p does and records every call, so tests can say whether sysctl ran.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import tmp from 'tmp';
import { NodeHost } from '../../src/host/node-host.js';
import type { HostFacts, ProcessResult } from '../../src/host/host.js';
import { parseSysctlConf } from '../../src/sysctl/conf.js';
import type { Config } from '../../src/config/schema.js';
import { defaultConfig } from '../../src/config/load.js';
import type { Context, Role } from '../../src/controls/types.js';
import { defaultK3sChoice, isVersion, parseK3sVersion } from '../../src/k3s/version.js';

export class TestHost extends NodeHost {
  readonly kernel: Map<string, string>;
  readonly sysctlCalls: string[][] = [];
  sysctlExitCode = 0;
  /** Keys whose writes the kernel silently ignores. */
  readonly stubborn = new Set<string>();

  constructor(kernel: Record<string, string>) {
    super(tmp.dirSync({ prefix: 'k3s-hostprep-test-', unsafeCleanup: true }).name, true);
    this.kernel = new Map(Object.entries(kernel));
  }

  override readSysctl(key: string): string {
    const value = this.kernel.get(key);
    if (value === undefined)
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '/proc/sys/${key.replace(/\./g, '/')}'`), { code: 'ENOENT' });
    return `${value}\n`;
  }

  /** Keys whose /proc/sys file is not writable, with the reason. */
  readonly unwritable = new Map<string, string>();

  override sysctlUnwritable(key: string): string | null {
    return this.unwritable.get(key) ?? null;
  }

  override async runSysctl(args: string[]): Promise<ProcessResult> {
    this.sysctlCalls.push(args);
    if (this.sysctlExitCode !== 0)
      return { command: `sysctl ${args.join(' ')}`, exitCode: this.sysctlExitCode, stdout: '', stderr: 'sysctl: permission denied on key "kernel.panic"' };
    const file = args[args.length - 1]!;
    for (const a of parseSysctlConf(this.readText(file) ?? '', file)) if (!this.stubborn.has(a.key)) this.kernel.set(a.key, a.value);
    return { command: `sysctl ${args.join(' ')}`, exitCode: 0, stdout: '', stderr: '' };
  }

  /** What `k3s --version` prints on this host; null: K3s is not installed. */
  k3sVersionOutput: string | null = null;

  override async k3sVersion(): Promise<ProcessResult | null> {
    return this.k3sVersionOutput === null ? null : { command: 'k3s --version', exitCode: 0, stdout: this.k3sVersionOutput, stderr: '' };
  }

  override async facts(): Promise<HostFacts> {
    return { distribution: 'Test Linux', kernel: '6.0.0-test', hostname: 'test-node' };
  }

  file(logical: string): string {
    return path.join(this.root, logical);
  }

  write(logical: string, content: string, mode = 0o644): void {
    fs.mkdirSync(path.dirname(this.file(logical)), { recursive: true });
    fs.writeFileSync(this.file(logical), content, { mode });
    fs.chmodSync(this.file(logical), mode);
  }
}

export function context(host: TestHost, options: { role?: Role; force?: boolean; config?: Config; k3s?: string } = {}): Context {
  const ctx: Context = {
    host,
    config: options.config ?? defaultConfig(),
    role: options.role ?? 'server',
    force: options.force ?? false,
    k3s: defaultK3sChoice(),
  };
  if (options.k3s !== undefined) {
    const version = parseK3sVersion(options.k3s);
    if (!isVersion(version)) throw new Error(version.error);
    ctx.k3s = { version, source: 'test' };
  }
  return ctx;
}
