import type { Host } from './host/host.js';
import type { Role } from './config/schema.js';

export interface RoleChoice {
  role: Role;
  /** How the role was chosen, in words for the report. */
  source: string;
}

export const UNIT_DIRS = ['/etc/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'] as const;

/** The first unit file of that name, or null. */
export function findUnit(host: Host, name: string): string | null {
  for (const dir of UNIT_DIRS) {
    const p = `${dir}/${name}`;
    if (host.lstat(p) !== null) return p;
  }
  return null;
}

/** --role, then the config, then the installed K3s unit (k3s.service wins over k3s-agent.service), then server. */
export function chooseRole(host: Host, flag: Role | undefined, configured: Role | undefined, configSource: string): RoleChoice {
  if (flag) return { role: flag, source: '--role' };
  if (configured) return { role: configured, source: `role in ${configSource}` };
  const server = findUnit(host, 'k3s.service');
  if (server) return { role: 'server', source: `inferred from ${server}` };
  const agent = findUnit(host, 'k3s-agent.service');
  if (agent) return { role: 'agent', source: `inferred from ${agent}` };
  return { role: 'server', source: 'default: no role configured and no k3s or k3s-agent unit installed' };
}
