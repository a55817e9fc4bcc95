/**
 * Where the configuration lives and what it is without a file: kept apart from load.ts so that
 * a node without a configuration file never loads the YAML parser (a boot-path cost).
 */
import { type Config, toConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/k3s-hostprep/config.yaml';

/** A configuration is a few kilobytes; anything past this is refused before it is read or parsed. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export function defaultConfig(): Config {
  return toConfig({}, '(defaults)');
}
