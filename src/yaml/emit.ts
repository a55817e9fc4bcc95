/**
 * A small, deterministic YAML emitter for the files k3s-hostprep generates: plain data only
 * (mappings, sequences, strings, finite or special numbers, booleans, null), in block style with
 * two-space indentation and sequences indented under their key, the layout yaml's stringify
 * writes. A string that is not plainly safe is written in JSON's double-quoted style, which is
 * valid YAML 1.2; strings YAML 1.1 readers (Go's yaml.v2) would take for booleans are quoted too.
 * Rendering needs no YAML library, so the boot path never loads one. Pure.
 */

/** Words YAML 1.2's core schema or YAML 1.1 reads as null or a boolean. */
const RESERVED = /^(?:~|null|true|false|y|yes|n|no|on|off)$/i;
/**
 * A plain scalar that reads back as the same string: it starts with a letter, "_" or "/" (never
 * an indicator, a digit, a sign or a dot, so never a number, a date or .inf), holds only
 * characters without meaning inside a block-context plain scalar, single spaces between words,
 * and no ": " or " #" (checked apart).
 */
const PLAIN = /^[A-Za-z_/][\w./:=,@+()*&!?%~'"#-]*(?: [\w./:=,@+()*&!?%~'"#-]+)*$/;
/**
 * Characters JSON leaves raw that YAML does not allow raw (DEL, C1 controls, the byte-order mark,
 * non-characters) or that YAML 1.1 reads as line breaks (NEL, LS, PS).
 */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

export function isPlainSafe(text: string): boolean {
  return PLAIN.test(text) && !text.endsWith(':') && !text.includes(': ') && !text.includes(' #') && !RESERVED.test(text);
}

/** A string as a YAML scalar: plain when safe, else double-quoted. */
export function yamlString(text: string): string {
  if (isPlainSafe(text)) return text;
  return JSON.stringify(text).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function yamlNumber(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  return Object.is(n, -0) ? '-0' : String(n);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A scalar's text, or null for a collection. */
function scalar(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return yamlString(value);
    case 'number':
      return yamlNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return value.length === 0 ? '[]' : null;
      if (isMapping(value)) return entries(value).length === 0 ? '{}' : null;
      break;
    default:
      break;
  }
  throw new TypeError(`cannot write ${describe(value)} as YAML: plain data only`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return `an object of type ${(value as object).constructor?.name ?? 'unknown'}`;
  return `a ${typeof value}`;
}

/** A mapping's entries; keys with undefined values are left out, as JSON does. */
function entries(map: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(map).filter((e) => e[1] !== undefined);
}

/** YAML limits an implicit key to 1024 characters; longer keys are written as explicit "? key". */
const MAX_IMPLICIT_KEY = 1024;

/** The lines of a collection; the first line is written after whatever leads it ("- " or nothing). */
function block(value: unknown, indent: string, out: string[], lead: string): void {
  if (Array.isArray(value)) {
    let first = lead;
    for (const item of value) {
      const s = scalar(item === undefined ? null : item);
      if (s !== null) out.push(`${first}- ${s}`);
      else block(item, `${indent}  `, out, `${first}- `);
      first = indent;
    }
    return;
  }
  let first = lead;
  for (const [key, item] of entries(value as Record<string, unknown>)) {
    const k = yamlString(key);
    const s = scalar(item);
    if (k.length > MAX_IMPLICIT_KEY) {
      out.push(`${first}? ${k}`);
      if (s !== null) out.push(`${indent}: ${s}`);
      else block(item, `${indent}  `, out, `${indent}: `);
    } else if (s !== null) out.push(`${first}${k}: ${s}`);
    else {
      // A nested mapping, or a sequence, indented under its key.
      out.push(`${first}${k}:`);
      block(item, `${indent}  `, out, `${indent}  `);
    }
    first = indent;
  }
}

/**
 * One YAML document for a plain value, ending in a newline. Anything else (a Date, a Map, a
 * class instance, a bigint, a function) is refused with a TypeError.
 */
export function emitYaml(value: unknown): string {
  const s = scalar(value);
  if (s !== null) return `${s}\n`;
  const out: string[] = [];
  block(value, '', out, '');
  return `${out.join('\n')}\n`;
}
