/**
 * os-release(5): the distribution's identity as newline-separated VAR=value assignments with
 * shell-like quoting. Reading the file directly costs microseconds; systemd, hostnamectl and
 * systeminformation itself read the same file. Pure.
 */

/** Parses os-release text into its variables; malformed lines are ignored, as systemd does. */
export function parseOsRelease(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    vars[m[1]!] = unquote(m[2]!);
  }
  return vars;
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
    const inner = value.slice(1, -1);
    // Inside double quotes, a backslash escapes $ " \ and `.
    return q === '"' ? inner.replace(/\\([$"\\`])/g, '$1') : inner;
  }
  return value.replace(/\\(.)/g, '$1');
}

/** PRETTY_NAME, else NAME and VERSION_ID ("Linux" is os-release's own default NAME), or null. */
export function distributionName(vars: Readonly<Record<string, string>>): string | null {
  if (vars.PRETTY_NAME) return vars.PRETTY_NAME;
  if (vars.NAME) return [vars.NAME, vars.VERSION_ID].filter(Boolean).join(' ');
  return null;
}
