/** Where K3s keeps what the hardening guide asks for. */
export const K3S_SERVER_DIR = '/var/lib/rancher/k3s/server';
export const MANIFESTS_DIR = `${K3S_SERVER_DIR}/manifests`;
export const LOGS_DIR = `${K3S_SERVER_DIR}/logs`;
export const AUDIT_POLICY_FILE = `${K3S_SERVER_DIR}/audit.yaml`;
export const AUDIT_LOG_FILE = `${LOGS_DIR}/audit.log`;

/**
 * Mode for a directory created on the way to a target: the server directory and what is below
 * it hold K3s' keys and get 0700, as K3s creates them; /var/lib/rancher and /var/lib/rancher/k3s
 * get 0755 so that pods' host paths below them (local-path storage) stay reachable.
 */
export function newAncestorMode(path: string): number {
  return path === K3S_SERVER_DIR || path.startsWith(`${K3S_SERVER_DIR}/`) ? 0o700 : 0o755;
}

/** For directories outside K3s' tree (/etc/sysctl.d, /etc/rancher/...). */
export function publicAncestorMode(): number {
  return 0o755;
}

/** Pod Security admission (and EventRateLimit) configuration, used through --admission-control-config-file. */
export const PSA_FILE = `${K3S_SERVER_DIR}/psa.yaml`;
export const POLICY_FILE = `${MANIFESTS_DIR}/policy.yaml`;
export const K3S_DROPIN_FILE = '/etc/rancher/k3s/config.yaml.d/90-k3s-hostprep.yaml';
