import * as YAML from 'yaml';
import { ConfigError } from '../errors.js';
import { type Config, configProblems, toConfig } from './schema.js';
import { DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES, defaultConfig } from './defaults.js';

export { DEFAULT_CONFIG_PATH, defaultConfig };

export { MAX_CONFIG_BYTES };
/** YAML aliases expanded at most this often (a "billion laughs" file expands each one many times). */
export const MAX_ALIAS_COUNT = 100;
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
  const problems = configProblems(raw);
  if (problems.length > 0) throw new ConfigError(file, capped(problems));
  return toConfig(raw, file);
}
