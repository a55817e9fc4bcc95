/**
 * The digests of the files k3s-hostprep renders, kept between runs: every managed file's header
 * carries the SHA-256 of its body, so a check works out one or two digests per file, and loading
 * node:crypto for them costs a boot-time run about as much as all its file checks (and ~2 MB). A
 * run on a host whose configuration has not changed renders the same texts as the run before:
 * their digests are read back here instead, and node:crypto is not loaded.
 *
 * Kept by the text itself (each digest with the exact text it is the digest of), so a changed
 * configuration is only a miss, never a wrong digest; in k3s-hostprep's root-owned state
 * directory, believed only when nobody but root can have written it (as the k3s --version memo);
 * a memo that is missing, untrusted or does not parse is ignored and the digests are made again.
 * Only texts k3s-hostprep renders itself are kept, never a file read from the host. Written by an
 * apply that had to work a digest out (check and plan only read it: they leave no trace on the
 * host); like the version memo it is an optimisation that changes nothing K3s or the report reads.
 * Never under --root (nothing is written into an image).
 */
import { MAX_STATE_BYTES, type Host } from '../host/host.js';
import { renderedDigests, seedDigests } from './managed.js';

export const DIGEST_MEMO = '/var/lib/k3s-hostprep/digests.json';

/** Takes the digests kept by an earlier run. */
export function recallDigests(host: Host): void {
  if (!host.live || !host.readState) return;
  const text = host.readState(DIGEST_MEMO);
  if (text === null) return;
  try {
    seedDigests(JSON.parse(text));
  } catch {
    /* made again */
  }
}

/** Keeps the digests of the texts this run rendered, when one of them was new. */
export function keepDigests(host: Host): void {
  if (!host.live || !host.writeState) return;
  const pairs = renderedDigests();
  if (pairs === null || pairs.length === 0) return;
  const text = `${JSON.stringify(pairs)}\n`;
  // One that could not be read back would be written again by every apply: a large configuration keeps none.
  if (Buffer.byteLength(text) <= MAX_STATE_BYTES) host.writeState(DIGEST_MEMO, text);
}
