/**
 * K3s' systemd unit as systemd loads it: the unit file, then every drop-in of
 * <unit>.d/ and of the type-wide service.d/ in every unit directory, one file per name (the
 * directory earlier in systemd's search path wins) applied in name order
 * (systemd's unit_file_find_dropin_paths). From them: the effective ExecStart= (an empty
 * assignment resets the list; a Type=notify service with two is refused) and the environment
 * (Environment=, EnvironmentFile=; the later assignment wins). K3s takes its configuration file
 * from K3S_CONFIG_FILE in that environment, else from the first --config / -c on the command line
 * (pkg/configfilearg findConfigFileFlag), and then reads that file and "<file>.d" instead of
 * /etc/rancher/k3s/config.yaml(.d). Reading goes through the Host; parsing is pure.
 */
import type { Host } from '../host/host.js';
import { describeError } from '../errors.js';
import { splitCommandLine } from './unit-flags.js';

/** systemd's unit search path, highest priority first (systemd.unit(5), "System Unit Search Path"). */
export const UNIT_SEARCH_PATH = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
] as const;

export interface UnitProblem {
  path: string;
  message: string;
}

export interface LoadedUnit {
  /** The unit file, and the drop-ins in the order systemd applies them. */
  files: string[];
  /** The effective ExecStart= command line, or null when there is none. */
  execStart: string | null;
  /** Where the effective ExecStart= was set. */
  execStartFile: string | null;
  /** Environment= and EnvironmentFile= assignments, the later winning. */
  environment: Map<string, { value: string; file: string }>;
  problems: UnitProblem[];
}

/** The drop-ins systemd applies to `name`: one per file name, the earlier directory winning, in name order. */
export function dropInPaths(host: Host, name: string): string[] {
  const byName = new Map<string, string>();
  const type = name.slice(name.lastIndexOf('.') + 1);
  for (const dir of UNIT_SEARCH_PATH) {
    for (const sub of [`${name}.d`, `${type}.d`]) {
      const d = `${dir}/${sub}`;
      for (const file of host.readDir(d) ?? []) {
        if (!file.endsWith('.conf') || byName.has(file)) continue;
        byName.set(file, `${d}/${file}`);
      }
    }
  }
  return [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => byName.get(k)!);
}

/** systemd's specifiers that a K3s unit uses: %N (name without suffix), %n, %%; any other cannot be resolved here. */
function specifiers(text: string, name: string): string | null {
  let unresolved = false;
  const out = text.replace(/%(.)/g, (_, c: string) => {
    if (c === 'N') return name.slice(0, name.lastIndexOf('.'));
    if (c === 'n') return name;
    if (c === '%') return '%';
    unresolved = true;
    return '';
  });
  return unresolved ? null : out;
}

/** KEY=VALUE lines of an environment file (systemd.exec(5) EnvironmentFile=): comments, quotes. */
export function environmentFile(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.replace(/\\\r?\n/g, '').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = /^(['"])(.*)\1$/.exec(value);
    if (q) value = q[2]!;
    out.push([m[1]!, value]);
  }
  return out;
}

/** Loads `name` (k3s.service, k3s-agent.service) as systemd would; null when no unit file exists. */
export function loadUnit(host: Host, name: string): LoadedUnit | null {
  let main: string | null = null;
  for (const dir of UNIT_SEARCH_PATH) {
    if (host.lstat(`${dir}/${name}`) !== null) {
      main = `${dir}/${name}`;
      break;
    }
  }
  if (main === null) return null;
  const files = [main, ...dropInPaths(host, name)];
  const problems: UnitProblem[] = [];
  let exec: Array<{ line: string; file: string }> = [];
  const environment = new Map<string, { value: string; file: string }>();
  for (const file of files) {
    let text: string | null;
    try {
      text = host.readText(file);
    } catch (error) {
      problems.push({ path: file, message: `cannot be read: ${describeError(error)}` });
      continue;
    }
    if (text === null) {
      if (file !== main) problems.push({ path: file, message: 'is a dangling symlink: what it was meant to change is unknown' });
      continue;
    }
    let section = '';
    for (const raw of text.replace(/\\\r?\n/g, ' ').split('\n')) {
      const line = raw.trim();
      const head = /^\[(.+)\]$/.exec(line);
      if (head) {
        section = head[1]!;
        continue;
      }
      if (section !== 'Service') continue;
      const m = /^([A-Za-z]+)\s*=(.*)$/.exec(line);
      if (!m) continue;
      const [, key, value0] = m;
      const value = value0!.trim();
      if (key === 'ExecStart') {
        if (value === '') exec = [];
        else exec.push({ line: value, file });
      } else if (key === 'Environment') {
        const resolved = specifiers(value, name);
        if (resolved === null) {
          problems.push({ path: file, message: `Environment=${value}: a specifier k3s-hostprep cannot resolve` });
          continue;
        }
        for (const word of splitCommandLine(resolved)) {
          const eq = word.indexOf('=');
          if (eq > 0) environment.set(word.slice(0, eq), { value: word.slice(eq + 1), file });
        }
      } else if (key === 'EnvironmentFile') {
        if (value === '') continue;
        const optional = value.startsWith('-');
        const path = specifiers(value.replace(/^-/, ''), name);
        if (path === null) {
          problems.push({ path: file, message: `EnvironmentFile=${value}: a specifier k3s-hostprep cannot resolve` });
          continue;
        }
        let envText: string | null;
        try {
          envText = host.readText(path);
        } catch (error) {
          problems.push({ path, message: `cannot be read: ${describeError(error)}` });
          continue;
        }
        if (envText === null) {
          if (!optional) problems.push({ path, message: `does not exist, and ${file} requires it: systemd refuses to start ${name}` });
          continue;
        }
        for (const [k, v] of environmentFile(envText)) environment.set(k, { value: v, file: path });
      }
    }
  }
  if (exec.length > 1) {
    problems.push({
      path: exec[1]!.file,
      message: `adds a second ExecStart= without resetting it with an empty "ExecStart=": systemd refuses to start ${name} (only Type=oneshot may have several)`,
    });
  }
  const last = exec.at(-1);
  return { files, execStart: last?.line ?? null, execStartFile: last?.file ?? null, environment, problems };
}

/** The configuration file K3s reads: K3S_CONFIG_FILE, else the first --config / -c of the command line, else the default. */
export function configFileOf(unit: LoadedUnit | null, fallback: string): { path: string; explicit: boolean; from: string } {
  const env = unit?.environment.get('K3S_CONFIG_FILE');
  if (env && env.value !== '') return { path: env.value, explicit: true, from: `K3S_CONFIG_FILE in ${env.file}` };
  if (unit?.execStart) {
    const words = splitCommandLine(unit.execStart.replace(/^[-@+!:|]+/, ''));
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      for (const flag of ['--config', '-c']) {
        if (w === flag && i + 1 < words.length) return { path: words[i + 1]!, explicit: true, from: `${flag} in ${unit.execStartFile}` };
        if (w.startsWith(`${flag}=`)) return { path: w.slice(flag.length + 1), explicit: true, from: `${flag} in ${unit.execStartFile}` };
      }
    }
  }
  return { path: fallback, explicit: false, from: 'the default' };
}
