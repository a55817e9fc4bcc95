import * as YAML from 'yaml';
import { ConfigError } from '../errors.js';
import { type Config, configSpec, withDefaults } from './schema.js';
import { validate } from './spec.js';
import { DEFAULT_CONFIG_PATH, defaultConfig } from './defaults.js';

export { DEFAULT_CONFIG_PATH, defaultConfig };

/**
 * Parses and validates a configuration text whole. Throws a ConfigError naming the file, every
 * key at fault and what was expected; returns the configuration with defaults filled in.
 */
export function parseConfig(text: string, file: string): Config {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `invalid YAML${e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''}: ${e.message.split('\n')[0]}`),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(file, [`invalid YAML: ${(error as Error).message}`], { cause: error });
  }
  if (raw === null || raw === undefined) raw = {};
  const problems = validate(configSpec, raw, '');
  if (problems.length > 0) throw new ConfigError(file, problems);
  return withDefaults(raw as Record<string, unknown>, file);
}

