/**
 * Drift tracking across verification cycles. A state is an item's status and actual value; a
 * line is due only when it changes, so a drifted node logs once, not once a cycle. Pure.
 */
import type { Status } from '../controls/types.js';
import type { Report } from '../report/model.js';
import { holds } from '../report/prometheus.js';

export interface ItemState {
  control: string;
  cis: string | null;
  item: string;
  status: Status;
  expected: string;
  actual: string;
  reason: string;
  /** Unix ms when this state was first seen. */
  since: number;
}

export type TransitionKind =
  /** First cycle: the item is not passing. */
  | 'initial'
  /** It was passing (or absent) and is not any more. */
  | 'drift'
  /** It is not passing, differently than before (another value, or fail became error). */
  | 'changed'
  /** It passes again. */
  | 'restored';

export interface Transition {
  kind: TransitionKind;
  state: ItemState;
  previous: ItemState | null;
}

export interface ControlTransition {
  control: string;
  cis: string | null;
  /** The control went from holding (or unknown, at the first cycle) to not holding. */
  drifted: boolean;
  status: Status;
}

export interface Observation {
  items: Transition[];
  controls: ControlTransition[];
}

const key = (control: string, item: string) => `${control}\u0000${item}`;

export class DriftTracker {
  private readonly items = new Map<string, ItemState>();
  private readonly controls = new Map<string, Status>();
  private first = true;

  /** Compares a report with the previous one and returns what changed. */
  observe(report: Report, now: number): Observation {
    const items: Transition[] = [];
    const controls: ControlTransition[] = [];
    const seen = new Set<string>();
    for (const c of report.controls) {
      for (const f of c.findings) {
        const k = key(c.id, f.item);
        seen.add(k);
        const previous = this.items.get(k) ?? null;
        if (previous && previous.status === f.status && previous.actual === f.actual) continue;
        const state: ItemState = {
          control: c.id,
          cis: f.cis ?? c.cis,
          item: f.item,
          status: f.status,
          expected: f.expected,
          actual: f.actual,
          reason: f.reason,
          since: now,
        };
        this.items.set(k, state);
        const passing = f.status === 'pass' || f.status === 'skip';
        const wasPassing = previous === null || previous.status === 'pass' || previous.status === 'skip';
        if (passing) {
          if (previous && !wasPassing) items.push({ kind: 'restored', state, previous });
        } else if (this.first) {
          items.push({ kind: 'initial', state, previous: null });
        } else {
          items.push({ kind: wasPassing ? 'drift' : 'changed', state, previous });
        }
      }
      const before = this.controls.get(c.id);
      if (before !== c.status) {
        this.controls.set(c.id, c.status);
        const wasHolding = before === undefined ? true : holds(before);
        controls.push({ control: c.id, cis: c.cis, drifted: wasHolding && !holds(c.status), status: c.status });
      }
    }
    // Items that are no longer judged (a key left the configuration) are forgotten.
    for (const k of [...this.items.keys()]) if (!seen.has(k)) this.items.delete(k);
    this.first = false;
    return { items, controls };
  }

  /** The current state of every item that is not passing. */
  failing(): ItemState[] {
    return [...this.items.values()].filter((s) => s.status !== 'pass' && s.status !== 'skip');
  }
}
