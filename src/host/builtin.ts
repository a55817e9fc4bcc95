/**
 * Node's built-in modules that only some runs need, loaded on first use: node:crypto costs a run
 * about as much as the rest of the checks (it loads Node's stream machinery with it), and a
 * check of a compliant host hashes only a few files.
 *
 * process.getBuiltinModule (Node.js 20.16 and newer) works in the ES module build (tests), in the
 * CommonJS bundle and in the single executable alike; before it, a require rooted anywhere does.
 */
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');

const get: (id: string) => unknown = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule ?? createRequire('/');

let loaded: Crypto | undefined;

export function nodeCrypto(): Crypto {
  loaded ??= get('node:crypto') as Crypto;
  return loaded;
}
