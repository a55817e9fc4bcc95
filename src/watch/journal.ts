/**
 * Log lines for the journal: one line each, a syslog priority prefix ("<4>") when standard
 * error is the journal's stream (sd-daemon(3); systemd sets JOURNAL_STREAM to its device and
 * inode, systemd.exec(5)), and logfmt fields that journalctl -g and log shippers can pick
 * apart. Pure: whether standard error is the journal's stream is host/journal-stream.ts's to say.
 */
import { escapeControls } from '../report/escape.js';
import type { ItemState, Transition } from './state.js';

export const PRIORITY = { err: 3, warning: 4, notice: 5, info: 6 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

/** A logfmt value: bare when it can be, else double-quoted with \ and " escaped; never a newline or another control character. */
export function logfmtValue(value: string): string {
  const flat = escapeControls(value.replace(/\r?\n/g, ' '));
  return flat !== '' && /^[A-Za-z0-9_.:/@+,-]+$/.test(flat) ? flat : `"${flat.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function fields(pairs: Record<string, string | number | undefined>): string {
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${logfmtValue(String(v))}`)
    .join(' ');
}

export function line(priority: Priority, event: string, pairs: Record<string, string | number | undefined>, prefix: boolean): string {
  const text = pairs && Object.keys(pairs).length > 0 ? `${event}: ${fields(pairs)}` : event;
  return `${prefix ? `<${priority}>` : ''}${text}\n`;
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function base(state: ItemState) {
  return { control: state.control, cis: state.cis ?? undefined, item: state.item, status: state.status, expected: state.expected, actual: state.actual };
}

/** The line for one change of state. */
export function transitionLine(t: Transition, prefix: boolean): string {
  const { state, previous } = t;
  const since = isoSeconds(state.since);
  if (t.kind === 'restored') {
    return line(
      PRIORITY.info,
      'restored',
      { ...base(state), since, ...(previous ? { was: previous.status, drifted_for: duration(state.since - previous.since) } : {}) },
      prefix,
    );
  }
  const priority = state.status === 'error' ? PRIORITY.err : PRIORITY.warning;
  const was = previous ? { was: previous.status, was_actual: previous.actual !== state.actual ? previous.actual : undefined } : {};
  return line(
    priority,
    t.kind === 'initial' ? 'not compliant at start' : t.kind === 'drift' ? 'drift' : 'drift changed',
    { ...base(state), since, ...was, reason: state.reason || undefined },
    prefix,
  );
}

/**
 * The lines for one cycle's changes of state. An item that only warns at the first cycle (an
 * unscored or manual check of the benchmark: dozens of them on every node, none a drift) is
 * gathered into one notice line, so the start of a watch is not a wall of warnings; a warning
 * that appears later is a drift like any other and gets its own line.
 */
export function transitionLines(transitions: readonly Transition[], prefix: boolean): string[] {
  const quiet = transitions.filter((t) => t.kind === 'initial' && t.state.status === 'warn');
  const lines = transitions.filter((t) => !quiet.includes(t)).map((t) => transitionLine(t, prefix));
  if (quiet.length > 0) {
    const ids = quiet.map((t) => t.state.cis ?? t.state.item);
    lines.push(line(PRIORITY.notice, 'warnings at start', { count: quiet.length, checks: [...new Set(ids)].join(',') }, prefix));
  }
  return lines;
}
