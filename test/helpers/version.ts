import { isVersion, type K3sVersion, parseK3sVersion } from '../../src/k3s/version.js';

/** A K3s version for a test; a text the product rejects is a mistake in the test, so it throws. */
export function version(text: string): K3sVersion {
  const parsed = parseK3sVersion(text);
  if (!isVersion(parsed)) throw new Error(`not a K3s version k3s-hostprep accepts: ${JSON.stringify(text)}: ${parsed.error}`);
  return parsed;
}
