import * as YAML from 'yaml';
import { ConfigError } from '../errors.js';
import { type Config, configProblems, toConfig } from './schema.js';
import { join } from './spec.js';
import { DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, defaultConfig } from './defaults.js';

export { DEFAULT_CONFIG_PATH, defaultConfig };

export { MAX_CONFIG_BYTES };
/** YAML aliases expanded at most this often (a "billion laughs" file expands each one many times). */
export const MAX_ALIAS_COUNT = 100;
/**
 * What a configuration may amount to once its aliases are expanded: a few aliases can stand for
 * a document many times the size of the file (a 1 MiB file became a 105 MB audit.yaml), and every
 * rendered file is built from it. Counted in characters of strings and keys plus one per node.
 */
export const MAX_EXPANDED_SIZE = 4 * MAX_CONFIG_BYTES;

/** At most this many problems are listed; the rest are counted. */
export const MAX_PROBLEMS = 20;

function capped(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more`];
}

function yamlMessage(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (/Maximum call stack size exceeded/.test(first)) return 'nested too deeply';
  if (/Excessive alias count/.test(first)) return `more than ${MAX_ALIAS_COUNT} alias expansions (a YAML alias bomb?)`;
  return first;
}

/** What makes a text unfit to be parsed at all: NUL bytes, control characters, or a replacement character from undecodable bytes. */
export function configTextProblem(text: string): string | null {
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFD\uFFFE\uFFFF]/.exec(text);
  if (!bad) return null;
  const line = text.slice(0, bad.index).split('\n').length;
  const what =
    bad[0] === '\u0000'
      ? 'a NUL byte'
      : bad[0] === '\uFFFD'
        ? 'bytes that are not UTF-8'
        : `the control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `not a text configuration: line ${line} contains ${what}`;
}

/** Decodes the bytes of a configuration file: refuses what is too large or not UTF-8. */
export function decodeConfig(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_CONFIG_BYTES)
    throw new ConfigError(file, [`the configuration file is ${bytes.length} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (1 MiB)`]);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ConfigError(file, ['not a text configuration: the file is not valid UTF-8'], { cause: error });
  }
}

/**
 * Parses and validates a configuration text whole. Throws a ConfigError naming the file, every
 * key at fault and what was expected; returns the configuration with defaults filled in.
 */
export function parseConfig(text: string, file: string): Config {
  const textProblem = configTextProblem(text);
  if (textProblem) throw new ConfigError(file, [textProblem]);
  let doc: ReturnType<typeof YAML.parseDocument>;
  try {
    // resolveKnownTags: false leaves YAML 1.1 tags (!!binary, !!set, !!timestamp ...) unresolved, reported below.
    doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true, resolveKnownTags: false });
  } catch (error) {
    throw new ConfigError(file, [`invalid YAML: ${yamlMessage((error as Error).message)}`], { cause: error });
  }
  const yamlProblems = [...doc.errors, ...doc.warnings].map(
    (e) => `invalid YAML${e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''}: ${yamlMessage(e.message)}`,
  );
  if (yamlProblems.length > 0) throw new ConfigError(file, capped(yamlProblems));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new ConfigError(file, [`invalid YAML: ${yamlMessage((error as Error).message)}`], { cause: error });
  }
  if (raw === null || raw === undefined) raw = {};
  const decoded = decodedProblems(raw);
  if (decoded.length > 0) throw new ConfigError(file, capped(decoded));
  const problems = configProblems(raw);
  if (problems.length > 0) throw new ConfigError(file, capped(problems));
  return toConfig(raw, file);
}

/**
 * Strings as they are after YAML escapes are decoded, judged the way the API server's YAML
 * (Go, UTF-8 only) will read what is written from them: a lone surrogate ("\ud800") cannot be
 * encoded in UTF-8 at all, and control characters other than tab and newline are refused, as
 * they are in the file itself. Also stops at MAX_EXPANDED_SIZE, counting aliases as expanded,
 * without expanding them again.
 */
export function decodedProblems(raw: unknown): string[] {
  const problems: string[] = [];
  let size = 0;
  const bad = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const check = (text: string, where: string) => {
    size += text.length;
    const m = bad.exec(text);
    if (m) {
      const code = m[0].charCodeAt(0);
      const what =
        code >= 0xd800 && code <= 0xdfff
          ? 'a lone UTF-16 surrogate, which UTF-8 cannot encode'
          : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      problems.push(`${where || '(top level)'}: the string contains ${what} (after YAML escapes are decoded); Kubernetes' YAML could not read it`);
    }
  };
  const walk = (value: unknown, where: string): void => {
    if (size > MAX_EXPANDED_SIZE || problems.length > MAX_PROBLEMS) return;
    size += 1;
    if (typeof value === 'string') check(value, where);
    else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, join(where, i));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const at = join(where, k);
        check(k, at);
        walk(v, at);
      }
    }
  };
  walk(raw, '');
  if (size > MAX_EXPANDED_SIZE)
    return [`the configuration expands to more than ${MAX_EXPANDED_SIZE} characters once its aliases are expanded (a YAML alias bomb?)`];
  return problems;
}
