/** What a control needs to know about the node's K3s: its version and whether Rancher manages it. */
import type { Config } from '../config/schema.js';
import type { Host } from '../host/host.js';
import { RANCHER_DROPIN } from './config-files.js';
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
