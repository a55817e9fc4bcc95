/**
 * What the kernel will hold after the next boot: the order systemd-sysctl and `sysctl --system`
 * read configuration in. Pure: the caller supplies directory listings and file contents.
 */
import { type Assignment, globMatches, parseSysctlConf } from './conf.js';

/** Earlier directories mask files of the same name in later ones. */
export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'] as const;
/** procps reads /etc/sysctl.conf after every sysctl.d file. */
export const SYSCTL_CONF = '/etc/sysctl.conf';

export interface ConfFile {
  /** Logical path of the file that is read. */
  path: string;
  /** Its text; null when masked (a symlink to /dev/null or an empty file). */
  text: string | null;
}

/** Picks the *.conf files that count, masked names removed, sorted by file name. */
export function selectConfFiles(listing: (dir: string) => string[] | null): string[] {
  const byName = new Map<string, string>();
  for (const dir of SYSCTL_DIRS) {
    for (const name of listing(dir) ?? []) {
      if (!name.endsWith('.conf') || byName.has(name)) continue;
      byName.set(name, `${dir}/${name}`);
    }
  }
  return [...byName.keys()].sort(compareNames).map((name) => byName.get(name)!);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Resolution {
  /** The assignment that wins for each key, explicit assignments before globs. */
  winner: (key: string) => Assignment | undefined;
  /** Every assignment of a key, in the order read (for reports). */
  history: (key: string) => Assignment[];
  files: string[];
}

export function resolveSysctl(files: ConfFile[]): Resolution {
  const all: Assignment[] = [];
  for (const file of files) {
    if (file.text === null) continue;
    all.push(...parseSysctlConf(file.text, file.path));
  }
  const history = (key: string) => all.filter((a) => (a.glob ? globMatches(a.key, key) : a.key === key));
  const winner = (key: string) => {
    const matches = history(key);
    const explicit = matches.filter((a) => !a.glob);
    return (explicit.length > 0 ? explicit : matches).at(-1);
  };
  return { winner, history, files: files.map((f) => f.path) };
}
