/**
 * `render cloud-init`: a #cloud-config for a new node that writes k3s-hostprep's configuration,
 * fetches and checks the release tarball, installs the agent and its units, runs apply and only
 * when that succeeds runs the K3s installer. Pure.
 */
import { parseDocument, stringify } from 'yaml';
import type { Role } from './config/schema.js';
import { UsageError } from './errors.js';
import { DEFAULT_CONFIG_PATH } from './config/load.js';
import { BIN_PATH } from './systemd/units.js';

export const BOOTSTRAP_PATH = '/usr/local/lib/k3s-hostprep/bootstrap.sh';
export const K3S_INSTALLER_URL = 'https://get.k3s.io';
/** A K3s release as the installer's INSTALL_K3S_VERSION takes it. */
export const FULL_RELEASE = /^v\d+\.\d+\.\d+\+k3s\d+$/;

export interface CloudInitInput {
  role: Role;
  /** The configuration text to put on the node; null for a minimal one naming the role. */
  configText: string | null;
  /** Where the node downloads the release tarball from, and its SHA-256. */
  agentUrl: string;
  agentSha256: string;
  /** A K3s version for the installer (INSTALL_K3S_VERSION); default: the stable channel. */
  k3sVersion?: string;
  /**
   * The SHA-256 of the K3s installer script: when given, the node runs the script only if it
   * matches. Without it the node runs whatever get.k3s.io serves at that moment.
   */
  k3sInstallerSha256?: string;
}

export function checkCloudInitInput(input: Partial<CloudInitInput>): void {
  if (input.agentUrl === undefined || input.agentSha256 === undefined) {
    throw new UsageError(
      'render cloud-init needs --agent-url URL and --agent-sha256 HEX: where nodes download the release tarball (scripts/build-sea) and its SHA-256',
    );
  }
  if (!/^https?:\/\/[^\s'"]+$/.test(input.agentUrl))
    throw new UsageError(`--agent-url: expected an http(s) URL without spaces or quotes, got "${input.agentUrl}"`);
  if (!/^[0-9a-f]{64}$/.test(input.agentSha256)) throw new UsageError(`--agent-sha256: expected 64 lowercase hexadecimal digits, got "${input.agentSha256}"`);
  if (input.k3sInstallerSha256 !== undefined && !/^[0-9a-f]{64}$/.test(input.k3sInstallerSha256)) {
    throw new UsageError(`--k3s-installer-sha256: expected 64 lowercase hexadecimal digits, got "${input.k3sInstallerSha256}"`);
  }
  if (input.k3sVersion !== undefined && !FULL_RELEASE.test(input.k3sVersion)) {
    throw new UsageError(`--k3s-version: render cloud-init needs one K3s release such as v1.30.4+k3s1, got "${input.k3sVersion}"`);
  }
}

/** The script cloud-init runs once: every step must succeed before the next, and K3s comes last. */
export function bootstrapScript(input: CloudInitInput): string {
  const env = [`INSTALL_K3S_EXEC='${input.role === 'agent' ? 'agent' : 'server'}'`];
  if (input.k3sVersion) env.push(`INSTALL_K3S_VERSION='${input.k3sVersion}'`);
  return `#!/bin/sh
# Installs k3s-hostprep, prepares this host, and only then installs K3s.
# A failing step stops the script: K3s is not installed on a host that is not compliant.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 5 -o "$work/k3s-hostprep.tar.gz" '${input.agentUrl}'
echo '${input.agentSha256}  '"$work/k3s-hostprep.tar.gz" | sha256sum -c -
tar -xzf "$work/k3s-hostprep.tar.gz" -C "$work" --strip-components=1
"$work/k3s-hostprep" install
${BIN_PATH} apply
curl -fsSL --retry 5 -o "$work/install-k3s.sh" '${K3S_INSTALLER_URL}'
${
  input.k3sInstallerSha256
    ? `echo '${input.k3sInstallerSha256}  '"$work/install-k3s.sh" | sha256sum -c -
`
    : ''
}${env.join(' ')} sh "$work/install-k3s.sh"
`;
}

/**
 * The configuration the node gets. With a pinned release, its k3sVersion names that release:
 * the first apply runs before K3s is installed, so without it apply would prepare for the
 * newest line it knows, and then an older K3s would be installed on top (PodSecurityPolicies
 * or not, psa.yaml or not). The operator's text is kept as it is, comments included.
 */
export function nodeConfig(input: Pick<CloudInitInput, 'role' | 'configText' | 'k3sVersion'>): string {
  const base = input.configText ?? `role: ${input.role}\n`;
  if (input.k3sVersion === undefined) return base;
  const doc = parseDocument(base);
  if (doc.get('k3sVersion') === input.k3sVersion) return base;
  doc.set('k3sVersion', input.k3sVersion);
  return doc.toString({ lineWidth: 0 });
}

export function renderCloudInit(input: CloudInitInput): string {
  checkCloudInitInput(input);
  const config = nodeConfig(input);
  const doc = {
    packages: ['curl', 'ca-certificates'],
    write_files: [
      { path: DEFAULT_CONFIG_PATH, owner: 'root:root', permissions: '0600', content: config },
      { path: BOOTSTRAP_PATH, owner: 'root:root', permissions: '0700', content: bootstrapScript(input) },
    ],
    runcmd: [[BOOTSTRAP_PATH]],
  };
  return `#cloud-config\n# k3s-hostprep: prepare this node before K3s starts (role ${input.role}).\n${stringify(doc, { lineWidth: 0 })}`;
}
