/** Parsing of sysctl.d(5) files, as systemd-sysctl and procps read them. Pure. */

export interface Assignment {
  key: string;
  value: string;
  /** Logical path of the file, and 1-based line number. */
  file: string;
  line: number;
  /** A leading "-": a failure to set the key is ignored. */
  ignoreFailure: boolean;
  /** The key is a glob pattern (systemd applies it to every matching key not set explicitly). */
  glob: boolean;
}

/**
 * sysctl keys may use "/" as the separator; then "." may appear inside a component. As in
 * systemd's sysctl_normalize(), if the first separator is "/", the two characters are swapped.
 */
export function normalizeKey(key: string): string {
  const trimmed = key.trim().replace(/^\/+/, '');
  const firstSeparator = /[./]/.exec(trimmed)?.[0];
  if (firstSeparator !== '/') return trimmed;
  return trimmed.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

export function parseSysctlConf(text: string, file: string): Assignment[] {
  const out: Assignment[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    let ignoreFailure = false;
    if (line.startsWith('-')) {
      ignoreFailure = true;
      line = line.slice(1);
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue; // systemd warns and ignores a line without "="
    const key = normalizeKey(line.slice(0, eq));
    if (key === '') continue;
    out.push({ key, value: line.slice(eq + 1).trim(), file, line: i + 1, ignoreFailure, glob: /[*?[]/.test(key) });
  }
  return out;
}

/** fnmatch(3) without FNM_PATHNAME, enough for sysctl key globs: *, ? and [...] classes. */
export function globMatches(pattern: string, key: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(key);
}

/** Renders key=value lines for the given values, in the given order. */
export function renderSysctlConf(header: string[], values: ReadonlyArray<readonly [string, number | string]>): string {
  return [...header.map((h) => (h ? `# ${h}` : '#')), ...values.map(([k, v]) => `${k}=${v}`)].join('\n') + '\n';
}
