/** The files k3s-hostprep generates, by the name `render` knows them under. */
import type { Config, Role } from './config/schema.js';
import { auditFileSpec } from './controls/audit-policy.js';
import { dropInSpec } from './controls/k3s-config.js';
import { sysctlFileSpec } from './controls/kernel-parameters.js';
import { renderManaged, type FileSpec } from './controls/managed.js';
import { policyFileSpec } from './controls/network-policy.js';
import { psaFileSpec } from './controls/pod-security.js';
import type { Host } from './host/host.js';
import { k3sVersionOf } from './k3s/node.js';
import { renderRancherCluster } from './k3s/settings.js';
import type { K3sVersionChoice } from './k3s/version.js';
import { WATCH_UNIT, unitFileSpec } from './systemd/units.js';

export interface RenderInput {
  config: Config;
  role: Role;
  host: Host;
  k3s: K3sVersionChoice;
}

export type Artefact = {
  name: string;
  description: string;
} & (
  | {
      /** The file exactly as apply writes it, and where. */
      spec(input: RenderInput): FileSpec;
    }
  | {
      /** A text apply does not write (a template for another system). */
      text(input: RenderInput): string;
    }
);

export const ARTEFACTS: readonly Artefact[] = [
  { name: 'sysctl', description: 'the six kernel parameters the kubelet checks', spec: (input) => sysctlFileSpec(input.config) },
  { name: 'audit', description: 'the API server audit policy', spec: (input) => auditFileSpec(input) },
  { name: 'policy', description: 'policy.yaml: network policies (and PodSecurityPolicies up to v1.24)', spec: (input) => policyFileSpec(input) },
  { name: 'psa', description: 'psa.yaml: Pod Security admission and EventRateLimit configuration', spec: (input) => psaFileSpec(input) },
  { name: 'k3s-config', description: 'the K3s config.yaml.d drop-in for this role', spec: (input) => dropInSpec(input) },
  {
    name: 'rancher-cluster',
    description: 'the Rancher provisioning.cattle.io/v1 Cluster template',
    text: (input) => renderRancherCluster(input.config, k3sVersionOf(input).version),
  },
  { name: 'watch-unit', description: 'the systemd unit that runs watch', spec: () => unitFileSpec(WATCH_UNIT) },
];

export function findArtefact(name: string): Artefact | undefined {
  return ARTEFACTS.find((a) => a.name === name);
}

export function renderArtefact(artefact: Artefact, input: RenderInput): string {
  return 'spec' in artefact ? renderManaged(artefact.spec(input).body) : artefact.text(input);
}
