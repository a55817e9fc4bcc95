/**
 * Files and directories that k3s-hostprep owns: how they are marked, planned, applied and
 * verified. Every control that writes goes through here, so the rules hold everywhere:
 * nothing is written through a symlink, a file someone else wrote is not replaced without
 * --force (and then only after a backup), and nothing is rewritten that is already right.
 */
import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { nodeCrypto } from '../host/builtin.js';
import type { Host } from '../host/host.js';
import { isTempNameFor } from '../host/node-host.js';
import { describeError } from '../errors.js';
import type { ApplyOutcome, Change, Context, Control, ControlPlan, Finding } from './types.js';
import { changeTarget, fail, pass } from './types.js';

const MARK = 'k3s-hostprep-sha256:';

/**
 * Digests of texts already hashed by this process: a run hashes the same few texts again and again
 * (the rendered body for the header, the file for its finding and for the record), and the watch
 * does so every cycle. Keyed by the text itself, so a changed file is a new key; bounded.
 */
const digests = new Map<string, string>();
const MAX_DIGESTS = 64;
/** The texts k3s-hostprep renders (bodies and whole files), whose digests may be kept (src/controls/digest-memo.ts). */
const rendered = new Set<string>();
/** Whether this process worked out the digest of a rendered text that it had not been given. */
let renderedFresh = false;

export function sha256(text: string): string {
  let digest = digests.get(text);
  if (digest === undefined) {
    digest = nodeCrypto().createHash('sha256').update(text).digest('hex');
    if (digests.size >= MAX_DIGESTS) digests.clear();
    digests.set(text, digest);
    if (rendered.has(text)) renderedFresh = true;
  }
  return digest;
}

/**
 * Digests worked out before, each with its text, as kept in k3s-hostprep's state directory: the
 * hash is then not made again (and node:crypto not loaded) for a text given here. Only the
 * well formed are taken; the caller vouches that nobody but root wrote them.
 */
export function seedDigests(pairs: unknown): void {
  if (!Array.isArray(pairs)) return;
  for (const pair of pairs.slice(0, MAX_DIGESTS)) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [digest, text] = pair as unknown[];
    if (typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest) && typeof text === 'string') digests.set(text, digest);
  }
}

/** The rendered texts this process knows the digest of, when one was new to it since it last asked; null otherwise. */
export function renderedDigests(): Array<[string, string]> | null {
  if (!renderedFresh) return null;
  renderedFresh = false;
  return [...rendered].flatMap((text): Array<[string, string]> => {
    const digest = digests.get(text);
    return digest === undefined ? [] : [[digest, text]];
  });
}

function remember(text: string): string {
  if (rendered.size >= MAX_DIGESTS) rendered.clear();
  rendered.add(text);
  return text;
}

/** Prepends the header that marks a file as k3s-hostprep's, with a digest of the body. */
export function renderManaged(body: string): string {
  remember(body);
  return remember(
    [
      '# Managed by k3s-hostprep. Local edits are reported and not overwritten without --force;',
      '# change /etc/k3s-hostprep/config.yaml instead.',
      `# ${MARK} ${sha256(body)}`,
      body,
    ].join('\n'),
  );
}

/** No generated file is larger than this: what renders larger comes from a configuration gone wrong. */
export const MAX_RENDERED_CHARS = 8 * 1024 * 1024;

/**
 * "adopted": our header with an intact body on a host where k3s-hostprep has never kept a record
 * of what it wrote (a node prepared by a release from before the record). Such a file is taken
 * over once, with a backup, so that upgrading k3s-hostprep does not block the gate on every node.
 */
export type Ownership = 'ours' | 'adopted' | 'edited' | 'foreign';

/**
 * What the header says: "ours" (our header and an intact body), "edited" (our header, a changed
 * body) or "foreign". Anyone can write a header with a matching digest, so the header only
 * explains a file to a reader; whether k3s-hostprep wrote a file is what recordedOwnership says.
 */
export function ownership(text: string): Ownership {
  const lines = text.split('\n');
  const markIndex = lines.slice(0, 5).findIndex((l) => l.startsWith(`# ${MARK}`));
  if (markIndex < 0) return 'foreign';
  const digest = lines[markIndex]!.slice(`# ${MARK}`.length).trim();
  const body = lines.slice(markIndex + 1).join('\n');
  return sha256(body) === digest ? 'ours' : 'edited';
}

/**
 * The record of what k3s-hostprep wrote: for each path, the SHA-256 of the whole content it last
 * wrote there. It lives where only root can write, and it is what makes a file "ours": a file
 * whose content is not the one recorded for its path is someone else's, whatever header it
 * carries. Files written before the record existed are therefore replaced only with --force
 * (and a backup), once.
 */
export const RECORD_PATH = '/var/lib/k3s-hostprep/written.json';
const RECORD_DIR = path.posix.dirname(RECORD_PATH);

/**
 * For each path, the digests of the content k3s-hostprep last wrote there. A write records its
 * new digest beside the old one before the rename and keeps only the new one after it: a run
 * killed in between leaves a file whose content, old or new, is still recorded as ours.
 */
export function readRecord(host: Host): Record<string, string[]> {
  let text: string | null;
  try {
    text = host.readText(RECORD_PATH, { maxBytes: 1024 * 1024 });
  } catch {
    return {};
  }
  if (text === null) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const digests = (v: unknown) => (Array.isArray(v) ? v : [v]).filter((d): d is string => typeof d === 'string' && /^[0-9a-f]{64}$/.test(d));
    return Object.fromEntries(
      Object.entries(parsed)
        .map(([p, v]) => [p, digests(v)] as const)
        .filter(([, d]) => d.length > 0),
    );
  } catch {
    return {};
  }
}

/** Records what is about to be written at these paths, beside what was written there before. */
export function recordIntent(host: Host, entries: Record<string, string>): void {
  if (Object.keys(entries).length === 0) return;
  const record = readRecord(host);
  for (const [p, digest] of Object.entries(entries)) record[p] = [...new Set([...(record[p] ?? []), digest])];
  saveRecord(host, record);
}

/** Records (or, for null, forgets) what was written at these paths. */
export function recordWritten(host: Host, entries: Record<string, string | null>): void {
  if (Object.keys(entries).length === 0) return;
  const record = readRecord(host);
  for (const [p, digest] of Object.entries(entries)) {
    if (digest === null) delete record[p];
    else record[p] = [digest];
  }
  saveRecord(host, record);
}

function saveRecord(host: Host, record: Record<string, string[]>): void {
  if (Object.keys(record).length === 0) {
    // Nothing left that k3s-hostprep wrote (after uninstall): the record goes too.
    if (host.lstat(RECORD_PATH)?.isFile()) host.removeFile(RECORD_PATH);
    if (host.readDir(RECORD_DIR)?.length === 0) host.removeDir(RECORD_DIR);
    return;
  }
  const missing: string[] = [];
  for (let d = RECORD_DIR; d !== '/' && host.lstat(d) === null; d = path.posix.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    host.mkdir(d, d === RECORD_DIR ? 0o700 : 0o755);
    host.chown(d, 0, 0);
  }
  const sorted = Object.fromEntries(
    Object.entries(record)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([p, d]) => [p, d.length === 1 ? d[0] : d]),
  );
  host.writeFileAtomic(RECORD_PATH, JSON.stringify(sorted, null, 2) + '\n', { mode: 0o600, uid: 0, gid: 0 });
}

export function sha256Bytes(bytes: Uint8Array): string {
  return nodeCrypto().createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether the host had no record when this process first asked: judged once per host, so the
 * record that a run's first write creates does not turn the run's later files into "edited".
 */
const recordAbsentAtStart = new WeakMap<Host, boolean>();

function noRecordYet(host: Host): boolean {
  let absent = recordAbsentAtStart.get(host);
  if (absent === undefined) {
    try {
      absent = host.lstat(RECORD_PATH) === null;
    } catch {
      absent = false;
    }
    recordAbsentAtStart.set(host, absent);
  }
  return absent;
}

/**
 * "ours" only when the file's whole content is what k3s-hostprep recorded writing at that path.
 * Otherwise what the header says, an intact header counting as "edited", except on a host that
 * has no record at all, where it is "adopted" (replaced with a backup kept).
 */
export function recordedOwnership(host: Host, logical: string, text: string): Ownership {
  if (readRecord(host)[logical]?.includes(sha256(text))) return 'ours';
  const header = ownership(text);
  if (header === 'ours' && noRecordYet(host)) return 'adopted';
  return header === 'foreign' ? 'foreign' : 'edited';
}

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function owner(stat: Stats): string {
  const name = (id: number) => (id === 0 ? 'root' : String(id));
  return `${name(stat.uid)}:${name(stat.gid)}`;
}

export interface DirSpec {
  path: string;
  mode: number;
  /** Mode for a missing ancestor that has to be created on the way. */
  ancestorMode: (path: string) => number;
  /** Whether an existing directory's mode and owner are enforced (true) or only its existence. */
  enforce: boolean;
}

export interface FileSpec {
  path: string;
  /** The file's text without our header. */
  body: string;
  mode: number;
  /** Its directory, created when missing. */
  parent: DirSpec;
}

function symlinkFinding(host: Host, item: string, kind: string): Finding {
  let target = '?';
  try {
    target = host.readLink(item);
  } catch {
    /* unreadable link: keep "?" */
  }
  if (kind === 'directory') {
    // Often K3s' data moved to a larger disk: deleting the link would cut K3s off from it.
    return {
      ...fail(item, `a ${kind}`, `a symlink to ${target}`, `${item} is a symlink to ${target}; k3s-hostprep never writes through one.`),
      fix: `keep the data where it is and replace the symlink by a bind mount: stop K3s, rm ${item} (the link only, not ${target}), mkdir ${item}, add "${target} ${item} none bind 0 0" to /etc/fstab, mount ${item}, then run apply`,
    };
  }
  return fail(item, `a ${kind}`, `a symlink to ${target}`, `${item} is a symlink; k3s-hostprep never writes through one. Remove it and run apply again.`);
}

/**
 * Why a directory is not safe to keep k3s-hostprep's files in, or null. A directory that someone
 * other than root can change (owned by another user, writable by others, by a group other than
 * root's, or through an ACL entry) lets that someone replace or add files beside ours, or swap a
 * directory on the way for a symlink: then nothing we verify holds. The host judges the
 * directory, every directory up to "/" (under --root: up to "/" of this machine, the root
 * included) and every directory a symlink on the way leads through. Directories k3s-hostprep
 * owns are tightened instead (planDirectory with enforce); the ones it does not own are
 * reported and left alone. The same rule is enforced again when the host writes, on the
 * directories it holds open, so a change between plan and write is refused, not followed.
 */
export function unsafeDirectory(host: Host, dir: string): string | null {
  return host.untrusted(dir);
}

/** Leftover temporary files of a killed run beside a target: removed by apply before it writes. */
export function staleTemps(host: Host, target: string): Change[] {
  const dir = path.dirname(target);
  const names = host.readDir(dir) ?? [];
  return names
    .filter((name) => isTempNameFor(path.basename(target), name))
    .filter((name) => host.lstat(`${dir}/${name}`)?.isFile() === true)
    .map((name) => ({ kind: 'remove', path: `${dir}/${name}`, why: 'temporary file left by an interrupted run' }) as const);
}

/** Changes that make a directory exist with its mode and owner; blocked findings when it cannot be. */
export function planDirectory(host: Host, spec: DirSpec): ControlPlan {
  const changes: Change[] = [];
  const blocked: Finding[] = [];
  const stat = host.lstat(spec.path);
  if (stat === null) {
    const missing: string[] = [];
    for (let p = spec.path; p !== '/'; p = path.dirname(p)) {
      const s = host.lstat(p);
      if (s === null) {
        missing.unshift(p);
        continue;
      }
      // The directory a target lives in is held to the target's rule: never a symlink. Higher ancestors may be.
      if (s.isSymbolicLink() && p === path.dirname(spec.path)) return { changes, blocked: [symlinkFinding(host, p, 'directory')] };
      if (!s.isDirectory() && !(s.isSymbolicLink() && host.stat(p)?.isDirectory())) {
        blocked.push(fail(spec.path, 'a directory', `${p} is not a directory`, `${p} is in the way of ${spec.path}: it is not a directory.`));
        return { changes, blocked };
      }
      break;
    }
    const unsafe = unsafeDirectory(host, path.dirname(missing[0] ?? spec.path));
    if (unsafe) return { changes: [], blocked: [fail(spec.path, 'a directory only root can change', 'an unsafe ancestor', unsafe)] };
    for (const p of missing) changes.push({ kind: 'mkdir', path: p, mode: p === spec.path ? spec.mode : spec.ancestorMode(p) });
    return { changes, blocked };
  }
  if (stat.isSymbolicLink()) return { changes, blocked: [symlinkFinding(host, spec.path, 'directory')] };
  if (!stat.isDirectory()) {
    blocked.push(fail(spec.path, 'a directory', 'a file', `${spec.path} exists and is not a directory; move it away and run apply again.`));
    return { changes, blocked };
  }
  // A directory we own is tightened below; its ancestors, and a directory we do not own, must already be safe.
  const unsafe = unsafeDirectory(host, spec.enforce ? path.dirname(spec.path) : spec.path);
  if (unsafe) return { changes: [], blocked: [fail(spec.path, 'a directory only root can change', 'an unsafe directory', unsafe)] };
  if (!spec.enforce) return { changes, blocked };
  if ((stat.mode & 0o7777) !== spec.mode) changes.push({ kind: 'chmod', path: spec.path, from: stat.mode & 0o7777, to: spec.mode });
  if (stat.uid !== 0 || stat.gid !== 0) changes.push({ kind: 'chown', path: spec.path, from: owner(stat), to: 'root:root' });
  return { changes, blocked };
}

/** Changes that make a managed file hold its rendered content, mode 0600-style and root:root. */
export function planFile(host: Host, spec: FileSpec, force: boolean): ControlPlan {
  const parent = planDirectory(host, { ...spec.parent, enforce: false });
  if (parent.blocked.length > 0) return parent;
  const after = renderManaged(spec.body);
  if (after.length > MAX_RENDERED_CHARS) {
    return {
      changes: [],
      blocked: [
        fail(
          spec.path,
          `at most ${MAX_RENDERED_CHARS} characters`,
          `${after.length} characters`,
          `${spec.path} would be ${after.length} characters long; k3s-hostprep writes no generated file over ${MAX_RENDERED_CHARS}. Check the configuration that renders it.`,
        ),
      ],
    };
  }
  const changes = [...parent.changes, ...staleTemps(host, spec.path)];
  const stat = host.lstat(spec.path);
  if (stat === null) {
    changes.push({ kind: 'file', path: spec.path, before: null, after, mode: spec.mode, backup: false });
    return { changes, blocked: [] };
  }
  if (stat.isSymbolicLink()) return { changes: [], blocked: [symlinkFinding(host, spec.path, 'regular file')] };
  if (!stat.isFile()) {
    return {
      changes: [],
      blocked: [
        fail(
          spec.path,
          'a regular file',
          stat.isDirectory() ? 'a directory' : 'a special file',
          `${spec.path} is not a regular file; move it away and run apply again.`,
        ),
      ],
    };
  }
  // Compared, not obeyed: read whoever could have written it (the write itself demands a trusted directory).
  const before = host.readText(spec.path, { trust: false }) ?? '';
  if (before !== after) {
    const who = recordedOwnership(host, spec.path, before);
    if (who !== 'ours' && who !== 'adopted' && !force) {
      const what =
        who === 'edited'
          ? "carries k3s-hostprep's header but is not what k3s-hostprep recorded writing there (edited since, or written by someone else)"
          : 'was not written by k3s-hostprep';
      return {
        changes: [],
        blocked: [
          fail(
            spec.path,
            'content rendered by k3s-hostprep',
            `different content (${what})`,
            `${spec.path} ${what}; it is left alone. Move your settings to the config, or run apply --force to replace it (a backup is kept).`,
          ),
        ],
      };
    }
    changes.push({ kind: 'file', path: spec.path, before, after, mode: spec.mode, backup: who !== 'ours' });
    return { changes, blocked: [] };
  }
  if ((stat.mode & 0o7777) !== spec.mode) changes.push({ kind: 'chmod', path: spec.path, from: stat.mode & 0o7777, to: spec.mode });
  if (stat.uid !== 0 || stat.gid !== 0) changes.push({ kind: 'chown', path: spec.path, from: owner(stat), to: 'root:root' });
  return { changes, blocked: [] };
}

/** An ancestor that cannot be read is not judged here: the read of the target itself reports it. */
function safely(check: () => string | null): string | null {
  try {
    return check();
  } catch {
    return null;
  }
}

/** Judges a directory: present, not a symlink, its mode and root:root. */
export function verifyDirectory(host: Host, spec: DirSpec): Finding {
  const expected = `directory, mode ${octal(spec.mode)}, owner root:root`;
  let stat: Stats | null;
  try {
    stat = host.lstat(spec.path);
  } catch (error) {
    return { item: spec.path, status: 'error', expected, actual: 'unreadable', reason: describeError(error) };
  }
  const unsafe = safely(() => unsafeDirectory(host, path.dirname(spec.path)));
  if (stat === null) return fail(spec.path, expected, 'missing', unsafe ?? `${spec.path} does not exist.`);
  if (stat.isSymbolicLink()) return symlinkFinding(host, spec.path, 'directory');
  if (!stat.isDirectory()) return fail(spec.path, expected, 'not a directory', `${spec.path} is not a directory.`);
  const actual = `directory, mode ${octal(stat.mode)}, owner ${owner(stat)}`;
  if (unsafe) return fail(spec.path, expected, actual, unsafe);
  if ((stat.mode & 0o7777) !== spec.mode) return fail(spec.path, expected, actual, `${spec.path} has mode ${octal(stat.mode)}, expected ${octal(spec.mode)}.`);
  if (stat.uid !== 0 || stat.gid !== 0) return fail(spec.path, expected, actual, `${spec.path} is owned by ${owner(stat)}, expected root:root.`);
  return pass(spec.path, expected, actual);
}

/** Judges a managed file: present, regular, its mode, root:root, and the content we render. */
export function verifyFile(host: Host, spec: FileSpec): Finding {
  const rendered = renderManaged(spec.body);
  const expected = `mode ${octal(spec.mode)}, root:root, content sha256 ${sha256(rendered).slice(0, 12)}`;
  let stat: Stats | null;
  let text: string | null = null;
  try {
    stat = host.lstat(spec.path);
    if (stat?.isFile()) text = host.readText(spec.path, { trust: false });
  } catch (error) {
    return { item: spec.path, status: 'error', expected, actual: 'unreadable', reason: describeError(error) };
  }
  const unsafe = safely(() => unsafeDirectory(host, path.dirname(spec.path)));
  if (stat === null) return fail(spec.path, expected, 'missing', unsafe ?? `${spec.path} does not exist; run apply.`);
  if (stat.isSymbolicLink()) return symlinkFinding(host, spec.path, 'regular file');
  if (!stat.isFile() || text === null) return fail(spec.path, expected, 'not a regular file', `${spec.path} is not a regular file.`);
  const actual = `mode ${octal(stat.mode)}, ${owner(stat)}, content sha256 ${sha256(text).slice(0, 12)}`;
  if (unsafe) return fail(spec.path, expected, actual, unsafe);
  if (text !== rendered) {
    const who = recordedOwnership(host, spec.path, text);
    const why =
      who === 'ours'
        ? 'holds an older rendering; apply will update it'
        : who === 'adopted'
          ? 'holds a rendering by an earlier k3s-hostprep; apply will update it (a backup is kept)'
          : who === 'edited'
            ? "carries k3s-hostprep's header but is not what k3s-hostprep recorded writing there"
            : 'was not written by k3s-hostprep';
    return fail(spec.path, expected, actual, `${spec.path} ${why}.`);
  }
  if ((stat.mode & 0o7777) !== spec.mode) return fail(spec.path, expected, actual, `${spec.path} has mode ${octal(stat.mode)}, expected ${octal(spec.mode)}.`);
  if (stat.uid !== 0 || stat.gid !== 0) return fail(spec.path, expected, actual, `${spec.path} is owned by ${owner(stat)}, expected root:root.`);
  return pass(spec.path, expected, actual);
}

/**
 * Carries out file and directory changes in order; sysctl changes are left to their control.
 * Errors are gathered, not thrown: a change that fails is reported, and the ones that depend
 * on nothing it did still run.
 */
export function applyChanges(host: Host, changes: readonly Change[]): ApplyOutcome {
  const outcome: ApplyOutcome = { done: [], hostErrors: [], backups: [] };
  const written: Record<string, string> = {};
  // Recorded before the first file is written (after the directories this plan creates, which the record's own may share).
  const intended = Object.fromEntries(changes.flatMap((c) => (c.kind === 'file' ? [[c.path, sha256(c.after)] as const] : [])));
  const firstFile = changes.findIndex((c) => c.kind === 'file');
  let unrecorded = false;
  for (const [index, change] of changes.entries()) {
    if (index === firstFile) {
      try {
        recordIntent(host, intended);
      } catch (error) {
        outcome.hostErrors.push(`record ${RECORD_PATH}: ${describeError(error)}`);
        unrecorded = true;
      }
    }
    // Nothing is written that could not be recorded as ours.
    if (unrecorded && change.kind === 'file') continue;
    try {
      switch (change.kind) {
        case 'mkdir':
          host.mkdir(change.path, change.mode);
          host.chown(change.path, 0, 0);
          break;
        case 'chmod':
          host.chmod(change.path, change.to);
          break;
        case 'chown':
          host.chown(change.path, 0, 0);
          break;
        case 'file':
          if (change.backup) outcome.backups.push(host.backup(change.path));
          host.writeFileAtomic(change.path, change.after, { mode: change.mode, uid: 0, gid: 0 });
          written[change.path] = sha256(change.after);
          break;
        case 'remove':
          host.removeFile(change.path);
          break;
        case 'sysctl':
          continue;
      }
      outcome.done.push(change);
    } catch (error) {
      outcome.hostErrors.push(`${change.kind} ${changeTarget(change)}: ${describeError(error)}`);
    }
  }
  try {
    recordWritten(host, written);
  } catch (error) {
    outcome.hostErrors.push(`record ${RECORD_PATH}: ${describeError(error)}`);
  }
  return outcome;
}

export interface FileControlSpec extends Omit<Control, 'plan' | 'apply' | 'verify'> {
  /** Where the file lives (also what watch looks at, unless watch says more). */
  path: string;
  /** The file as apply writes it on this node. */
  file(ctx: Context): FileSpec;
  /** Why the file is not written on this node (reported as a skip), or null when it is. */
  notHere?(ctx: Context): string | null;
  /** CIS numbers of the file's finding when they depend on the node (K3s version, config). */
  cisFor?(ctx: Context): string | undefined;
}

/**
 * A control whose whole job is one managed file: plan it, write it, verify it. The rules of
 * this module (no symlinks, no foreign file replaced without --force, atomic writes) come with it.
 */
export function fileControl(spec: FileControlSpec): Control {
  const { path: target, file, notHere, cisFor, ...meta } = spec;
  return {
    watch: [target],
    ...meta,
    plan(ctx: Context): ControlPlan {
      if (notHere?.(ctx)) return { changes: [], blocked: [] };
      return planFile(ctx.host, file(ctx), ctx.force);
    },
    async apply(ctx: Context, plan: ControlPlan) {
      return applyChanges(ctx.host, plan.changes);
    },
    verify(ctx: Context): Finding[] {
      const why = notHere?.(ctx) ?? null;
      if (why !== null) return [{ item: target, status: 'skip', expected: 'not written', actual: 'not applicable', reason: why }];
      const finding = verifyFile(ctx.host, file(ctx));
      const cis = cisFor?.(ctx);
      return [cis ? { ...finding, cis } : finding];
    },
  };
}
