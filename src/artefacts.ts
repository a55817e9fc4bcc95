/** The files k3s-hostprep generates, by the name `render` knows them under. */
import type { Config, Role } from './config/schema.js';
import { auditFileSpec } from './controls/audit-policy.js';
import { sysctlFileSpec } from './controls/kernel-parameters.js';
import { renderManaged, type FileSpec } from './controls/managed.js';
import { watchUnitFileSpec } from './watch/unit.js';

export interface RenderInput {
  config: Config;
  role: Role;
}

export interface Artefact {
  name: string;
  description: string;
  /** The file exactly as apply writes it, and where. */
  spec(input: RenderInput): FileSpec;
}

export const ARTEFACTS: readonly Artefact[] = [
  { name: 'sysctl', description: 'the six kernel parameters the kubelet checks', spec: (input) => sysctlFileSpec(input.config) },
  { name: 'audit', description: 'the API server audit policy', spec: (input) => auditFileSpec(input) },
  { name: 'watch-unit', description: 'the systemd unit that runs watch', spec: () => watchUnitFileSpec() },
];

export function findArtefact(name: string): Artefact | undefined {
  return ARTEFACTS.find((a) => a.name === name);
}

export function renderArtefact(artefact: Artefact, input: RenderInput): string {
  return renderManaged(artefact.spec(input).body);
}
