/**
 * The YAML library, for code that must stay synchronous but runs only when a configuration file
 * was parsed (a custom audit policy is written back as YAML). load.ts, which parses every
 * configuration file, registers it on import; nothing else imports 'yaml', so the boot path of
 * a node without a configuration file never pays for loading it.
 */
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

export function registerYaml(lib: typeof Yaml): void {
  loaded = lib;
}

export function yaml(): typeof Yaml {
  if (!loaded) throw new Error('the YAML library is not loaded: a custom audit policy only comes from a parsed configuration (config/load.ts)');
  return loaded;
}
