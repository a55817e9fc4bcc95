/**
 * Which directories to watch. inotify watches a directory's entries, so a file is watched
 * through its parent (an atomic rename replaces the inode; a chmod is an attribute event on the
 * parent's entry), a directory of drop-ins through itself, and a path that does not exist yet
 * through its nearest existing ancestor, filtered by the next component, until it appears. Pure.
 */
import * as path from 'node:path';
import type { Control } from '../controls/types.js';
import { K3S_CONFIG_FILE, K3S_DROPIN_DIR } from '../k3s/config-files.js';

/** K3s' configuration: config.yaml and its drop-in directory. */
export const K3S_CONFIG_PATHS = [path.dirname(K3S_CONFIG_FILE), K3S_CONFIG_FILE, K3S_DROPIN_DIR] as const;

export function watchedPaths(controls: readonly Control[]): string[] {
  return [...new Set([...controls.flatMap((c) => c.watch ?? []), ...K3S_CONFIG_PATHS])];
}

/** A directory to watch and the entry names that matter in it (null: all of them). */
export type WatchPlan = Map<string, Set<string> | null>;

export function planWatches(paths: readonly string[], isDir: (p: string) => boolean): WatchPlan {
  const plan: WatchPlan = new Map();
  const add = (dir: string, name: string | null) => {
    const current = plan.get(dir);
    if (current === null) return;
    if (name === null) plan.set(dir, null);
    else if (current === undefined) plan.set(dir, new Set([name]));
    else current.add(name);
  };
  for (const p of paths) {
    if (isDir(p)) add(p, null);
    let child = p;
    let parent = path.dirname(p);
    while (parent !== child && !isDir(parent)) {
      child = parent;
      parent = path.dirname(parent);
    }
    if (parent !== child) add(parent, path.basename(child));
  }
  return plan;
}

/** Whether an event in a watched directory is one that matters. */
export function relevant(names: Set<string> | null, filename: string | null): boolean {
  return names === null || filename === null || names.has(filename);
}
