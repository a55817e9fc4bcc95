/** What a control needs to know about the node's K3s: its version and whether Rancher manages it. */
import type { Config } from '../config/schema.js';
import type { Host } from '../host/host.js';
import type { Role } from '../config/schema.js';
import { RANCHER_DROPIN, readK3sConfig, type ConfigProblem, type K3sConfigFile, type KnownText } from './config-files.js';
import { unitFlags } from './unit-flags.js';
import { findUnit } from '../role.js';
import { defaultK3sChoice, type K3sVersionChoice } from './version.js';

export function k3sVersionOf(ctx: { k3s?: K3sVersionChoice }): K3sVersionChoice {
  return ctx.k3s ?? defaultK3sChoice();
}

export interface RancherManagement {
  managed: boolean;
  /** Why, in words for the report. */
  why: string;
}

/** Rancher owns K3s' flags when rancher-system-agent's drop-in exists or the config says so. */
export function rancherManagement(ctx: { host: Host; config: Config }): RancherManagement {
  if (ctx.config.rancherManaged) return { managed: true, why: `rancherManaged: true in ${ctx.config.source}` };
  if (ctx.host.lstat(RANCHER_DROPIN) !== null) return { managed: true, why: `${RANCHER_DROPIN} exists` };
  return { managed: false, why: '' };
}

export interface K3sSources {
  /** config.yaml and the drop-ins, in K3s' order. */
  files: K3sConfigFile[];
  /** The flags in K3s' unit ExecStart, which K3s applies after the files; null without a unit. */
  unit: K3sConfigFile | null;
  problems: ConfigProblem[];
}

/** Everything K3s takes its flags from on this node, in the order it applies them; files holding a `known` text are not parsed. */
export function k3sSources(host: Host, role: Role, known: readonly KnownText[] = []): K3sSources {
  const { files, problems } = readK3sConfig(host, undefined, known);
  const unitPath = findUnit(host, role === 'server' ? 'k3s.service' : 'k3s-agent.service');
  let unit: K3sConfigFile | null = null;
  if (unitPath !== null) {
    try {
      const text = host.readText(unitPath);
      if (text !== null) unit = unitFlags(text, `${unitPath} (ExecStart)`);
    } catch (error) {
      problems.push({ path: unitPath, message: `cannot be read: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return { files, unit, problems };
}
