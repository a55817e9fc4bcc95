/**
 * Which K3s version the node runs or will run, and where that was learned. Pure parsing and
 * choice; reading `k3s --version` is the host's business (Host.k3sVersion).
 */

export interface K3sVersion {
  major: number;
  minor: number;
  /** null when only a line ("v1.28") was given. */
  patch: number | null;
  /** The text as given, trimmed. */
  text: string;
}

export interface K3sVersionChoice {
  version: K3sVersion;
  /** Where the version came from, in words for the report. */
  source: string;
}

/**
 * The newest K3s line k3s-hostprep knows; used when nothing else says which version. Its
 * component defaults were read in K3s' release-1.34 branch (pkg/daemons/control/server.go,
 * pkg/daemons/agent/agent_linux.go after v1.34.3+k3s1): the same as v1.33's on every point the
 * checks depend on (kubelet settings in a config file, --read-only-port=0 on the line).
 */
export const NEWEST_LINE = 'v1.34';

/** The oldest line supported: config.yaml.d drop-ins and the kubernetes.io/metadata.name label arrived in v1.21. */
export const OLDEST_LINE = { major: 1, minor: 21 } as const;

/** Semantic versioning's shape: one optional pre-release ("-rc1") and one optional build ("+k3s1"), each once. */
const VERSION_RE = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Parses "v1.28.5+k3s1", "1.28.5", "v1.28", "v1.24.17-rc1+k3s1". Returns an error message
 * instead of throwing: the caller names the source.
 */
export function parseK3sVersion(text: string): K3sVersion | { error: string } {
  const trimmed = text.trim();
  const m = VERSION_RE.exec(trimmed);
  if (!m) return { error: `expected a K3s version such as v1.28.5+k3s1 or v1.28, got ${JSON.stringify(text)}` };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] === undefined ? null : Number(m[3]);
  if (major !== 1) return { error: `expected a Kubernetes 1.x version, got ${JSON.stringify(text)}` };
  if (minor < OLDEST_LINE.minor) {
    return {
      error: `K3s ${trimmed} is older than v${OLDEST_LINE.major}.${OLDEST_LINE.minor}, the oldest line supported (config.yaml.d and the kubernetes.io/metadata.name namespace label)`,
    };
  }
  return { major, minor, patch, text: trimmed };
}

export function isVersion(v: K3sVersion | { error: string }): v is K3sVersion {
  return !('error' in v);
}

/** The version out of `k3s --version` output: "k3s version v1.28.5+k3s1 (5b2d1271)\ngo version go1.20.12". */
export function versionFromK3sOutput(stdout: string): string | null {
  const m = /^k3s version (v\S+)/m.exec(stdout);
  return m ? m[1]! : null;
}

/** Kubernetes minor version comparison: at least 1.<minor>. */
export function atLeast(v: K3sVersion, minor: number): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= minor);
}

/** PodSecurityPolicy exists up to v1.24; PodSecurity admission replaces it from v1.25. */
export function hasPodSecurityPolicy(v: K3sVersion): boolean {
  return !atLeast(v, 25);
}

export function line(v: K3sVersion): string {
  return `v${v.major}.${v.minor}`;
}

export interface VersionSources {
  flag?: string;
  config?: { value: string; file: string };
  /** stdout of `k3s --version`, or null when K3s is not installed or was not run (offline root). */
  installed?: { stdout: string; command: string } | null;
  env?: string;
}

export type VersionResolution = { ok: true; choice: K3sVersionChoice } | { ok: false; where: string; message: string };

/**
 * --k3s-version, then the config's k3sVersion, then the installed binary, then INSTALL_K3S_VERSION,
 * else the newest line. A given version that does not parse is an error, never skipped.
 */
export function resolveK3sVersion(sources: VersionSources): VersionResolution {
  const take = (text: string, source: string, where: string): VersionResolution => {
    const v = parseK3sVersion(text);
    return isVersion(v) ? { ok: true, choice: { version: v, source } } : { ok: false, where, message: v.error };
  };
  if (sources.flag !== undefined) return take(sources.flag, '--k3s-version', '--k3s-version');
  if (sources.config) return take(sources.config.value, `k3sVersion in ${sources.config.file}`, `${sources.config.file}: k3sVersion`);
  if (sources.installed) {
    const found = versionFromK3sOutput(sources.installed.stdout);
    if (found) return take(found, `${sources.installed.command}`, sources.installed.command);
  }
  if (sources.env !== undefined && sources.env !== '') return take(sources.env, 'INSTALL_K3S_VERSION in the environment', 'INSTALL_K3S_VERSION');
  const newest = parseK3sVersion(NEWEST_LINE) as K3sVersion;
  return { ok: true, choice: { version: newest, source: 'default: the newest line (no version given and no k3s binary found)' } };
}

export function defaultK3sChoice(): K3sVersionChoice {
  return { version: parseK3sVersion(NEWEST_LINE) as K3sVersion, source: 'default: the newest line' };
}
