/**
 * K3s' own configuration: /etc/rancher/k3s/config.yaml, then config.yaml.d/*.yaml|*.yml in name
 * order (k3s-io/k3s pkg/configfilearg). A plain key replaces what came before; "key+:" appends
 * to it. Merging is pure; listing and reading the files goes through the Host.
 */
import { isMap, isNode, parseDocument } from 'yaml';
import type { Host } from '../host/host.js';
import { describeError } from '../errors.js';

export const K3S_CONFIG_FILE = '/etc/rancher/k3s/config.yaml';
export const K3S_DROPIN_DIR = `${K3S_CONFIG_FILE}.d`;
export const RANCHER_DROPIN = `${K3S_DROPIN_DIR}/50-rancher.yaml`;

export interface ConfigEntry {
  key: string;
  append: boolean;
  value: unknown;
}

export interface K3sConfigFile {
  path: string;
  entries: ConfigEntry[];
}

export interface ConfigProblem {
  path: string;
  message: string;
}

/** One value of a merged key, with the file it came from. */
export interface MergedItem {
  value: string;
  file: string;
}

export interface MergedKey {
  /** Every value the key ends up with, in order (a scalar is one item). */
  items: MergedItem[];
  /** Every file that set or appended to the key, in order; `append` false for a plain set. */
  writes: Array<{ file: string; append: boolean }>;
}

export type MergedConfig = Map<string, MergedKey>;

/** Go's convert.ToString of a YAML value, as K3s turns it into a flag value. */
export function flagString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** K3s' toSlice: a list stays a list, a string is one item, anything else its text (empty: nothing). */
function toSlice(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(flagString);
  if (typeof value === 'string') return [value];
  const s = flagString(value).trim();
  return s === '' ? [] : [s];
}

/**
 * The top-level pairs of a configuration text, in document order and with repeated keys kept:
 * K3s reads its files into a yaml.MapSlice, so two "kube-apiserver-arg+:" keys in one file both
 * append (pkg/configfilearg readConfigFile). A run reads each file once: see Snapshot.
 */
type Parsed = { pairs: Array<[string, unknown]> } | { scalar: unknown } | { message: string };

function parseYaml(text: string): Parsed {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return { message: `invalid YAML${e.linePos ? ` at line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}` };
  }
  try {
    const contents = doc.contents;
    if (!isMap(contents)) return { scalar: doc.toJS({ maxAliasCount: 100 }) };
    return {
      pairs: contents.items.map((pair) => {
        const key = isNode(pair.key) ? pair.key.toJS(doc, { maxAliasCount: 100 }) : pair.key;
        const value = isNode(pair.value) ? pair.value.toJS(doc, { maxAliasCount: 100 }) : (pair.value ?? null);
        return [flagString(key), value] as [string, unknown];
      }),
    };
  } catch (error) {
    return { message: `invalid YAML: ${describeError(error)}` };
  }
}

/**
 * A text whose YAML value is known without parsing it: what k3s-hostprep itself renders (its
 * drop-in). A file holding exactly that text is taken at that value; any other text is parsed.
 */
export interface KnownText {
  text: string;
  /** A fresh copy of the value the text's YAML holds. */
  value: () => unknown;
}

/** Parses one K3s configuration file: a mapping whose keys are flag names, optionally ending in "+". */
export function parseK3sConfigText(text: string, path: string, known: readonly KnownText[] = []): K3sConfigFile | ConfigProblem {
  const same = known.find((k) => k.text === text);
  let pairs: Array<[string, unknown]>;
  if (same) pairs = Object.entries(same.value() as Record<string, unknown>);
  else {
    const parsed = parseYaml(text);
    if ('message' in parsed) return { path, message: parsed.message };
    if ('scalar' in parsed) {
      if (parsed.scalar === null || parsed.scalar === undefined) return { path, entries: [] };
      return { path, message: 'expected a mapping of K3s flags' };
    }
    pairs = parsed.pairs;
  }
  const entries: ConfigEntry[] = pairs.map(([k, value]) => ({
    key: k.endsWith('+') ? k.slice(0, -1) : k,
    append: k.endsWith('+'),
    value,
  }));
  return { path, entries };
}

/** Merges files in the order given, with K3s' rules. */
export function mergeK3sConfig(files: readonly K3sConfigFile[]): MergedConfig {
  const merged: MergedConfig = new Map();
  for (const file of files) {
    for (const entry of file.entries) {
      const old = merged.get(entry.key);
      const tag = (values: string[]) => values.map((value) => ({ value, file: file.path }));
      if (old && entry.append) {
        old.items.push(...tag(toSlice(entry.value)));
        old.writes.push({ file: file.path, append: true });
      } else {
        const items = tag(Array.isArray(entry.value) ? entry.value.map(flagString) : [flagString(entry.value)]);
        merged.set(entry.key, { items, writes: [...(old?.writes ?? []), { file: file.path, append: entry.append }] });
      }
    }
  }
  return merged;
}

/** Which files after `ours` set one of `keys` without "+", wiping what `ours` gave it. */
export function laterReplacements(files: readonly K3sConfigFile[], ours: string, keys: readonly string[]): Array<{ file: string; key: string }> {
  const index = files.findIndex((f) => f.path === ours);
  if (index < 0) return [];
  const out: Array<{ file: string; key: string }> = [];
  for (const file of files.slice(index + 1)) {
    for (const entry of file.entries) if (!entry.append && keys.includes(entry.key)) out.push({ file: file.path, key: entry.key });
  }
  return out;
}

/**
 * The configuration file (when present), then the drop-ins K3s reads from "<file>.d", in its
 * order: names ending .yaml/.yml (any case), not directories. K3s lists the directory with
 * os.ReadDir, whose entries for symlinks are not directories: a symlink is read through, and one
 * that leads nowhere stops K3s.
 */
export function k3sConfigPaths(host: Host, base: string = K3S_CONFIG_FILE): string[] {
  const paths: string[] = [];
  if (host.stat(base)?.isFile()) paths.push(base);
  const dir = `${base}.d`;
  const names = host.readDir(dir) ?? [];
  for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!/\.(ya?ml)$/i.test(name)) continue;
    const p = `${dir}/${name}`;
    if (host.lstat(p)?.isDirectory()) continue;
    paths.push(p);
  }
  return paths;
}

/**
 * Reads and parses K3s' configuration files. `replace` stands in for a file's text (what apply
 * would write), so that plan and verify judge the same merge; a file holding a `known` text is
 * not parsed.
 */
export function readK3sConfig(
  host: Host,
  replace?: { path: string; text: string | null },
  known: readonly KnownText[] = [],
  base: { path: string; explicit: boolean; from: string } = { path: K3S_CONFIG_FILE, explicit: false, from: 'the default' },
): { files: K3sConfigFile[]; problems: ConfigProblem[] } {
  const files: K3sConfigFile[] = [];
  const problems: ConfigProblem[] = [];
  if (/^https?:\/\//.test(base.path)) {
    problems.push({ path: base.path, message: `is fetched by K3s at its start (${base.from}): what it holds cannot be judged here` });
    return { files, problems };
  }
  const paths = k3sConfigPaths(host, base.path);
  if (base.explicit && paths.length === 0) {
    problems.push({ path: base.path, message: `does not exist and ${base.path}.d holds no file (${base.from}): K3s refuses to start` });
  }
  if (replace && replace.text !== null && !paths.includes(replace.path) && replace.path.startsWith(`${base.path}.d/`)) {
    paths.push(replace.path);
    const config = paths.filter((p) => p === base.path);
    const dropins = paths.filter((p) => p !== base.path).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    paths.splice(0, paths.length, ...config, ...dropins);
  }
  for (const path of paths) {
    let text: string | null;
    if (replace && path === replace.path) text = replace.text;
    else {
      try {
        text = host.readText(path);
      } catch (error) {
        problems.push({ path, message: `cannot be read: ${describeError(error)}` });
        continue;
      }
    }
    if (text === null) {
      if (path !== base.path) problems.push({ path, message: 'is a dangling symlink: K3s fails to read it and refuses to start' });
      continue;
    }
    const parsed = parseK3sConfigText(text, path, known);
    if ('message' in parsed) problems.push(parsed);
    else files.push(parsed);
  }
  return { files, problems };
}
