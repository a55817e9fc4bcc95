/**
 * A small declarative schema for the configuration file: each problem names the key, what was
 * expected and what was found. A spec also carries each key's default, and the TypeScript type of
 * the value it accepts is inferred from it (Infer), so the shape, the defaults and the type are
 * written once. Pure.
 */

/** The TypeScript type a spec accepts, carried as a phantom property (never set at run time). */
declare const VALUE: unique symbol;
interface Typed<T> {
  readonly [VALUE]?: T;
}

interface StringSpec<T extends string> extends Typed<T>, Marks<T> {
  type: 'string';
  enum?: readonly T[];
  pattern?: RegExp;
  patternText?: string;
  check?: (value: string) => string | null;
}
interface IntSpec extends Typed<number>, Marks<number> {
  type: 'int';
  min?: number;
  max?: number;
  why?: string;
}
interface BoolSpec extends Typed<boolean>, Marks<boolean> {
  type: 'bool';
}
interface ObjectSpec<F extends Fields> extends Typed<ObjectValue<F>>, Marks<ObjectValue<F>> {
  type: 'object';
  fields: F;
}
interface MapSpec<V> extends Typed<Record<string, V>>, Marks<Record<string, V>> {
  type: 'map';
  values: Spec;
  keyPattern?: RegExp;
  keyText?: string;
  entry?: (key: string, value: unknown) => string | null;
  /** The entry as kept once valid (a key normalised, a value as text). */
  normalize?: (key: string, value: unknown) => [string, V];
}
/** An absolute, normalised path of a file below one of the allowed directories. */
interface PathSpec extends Typed<string>, Marks<string> {
  type: 'path';
  allowed: readonly string[];
  check?: (value: string) => string | null;
}
interface ArraySpec<I> extends Typed<I[]>, Marks<I[]> {
  type: 'array';
  items: Spec;
  minItems?: number;
  unique?: boolean;
}
/** A value judged by a function; T is what a value that passes the check is. */
interface CheckSpec<T> extends Typed<T>, Marks<T> {
  type: 'any';
  check: (value: unknown) => string | null;
}
/** false switches something on by default off; any other value is judged by the inner spec, under the same key. */
interface OffOrSpec<I> extends Typed<I | false>, Marks<I | false> {
  type: 'offOr';
  spec: Spec;
}

/**
 * What a key's absence means: an error (`required`), its `default` (copied), or, with `filled`,
 * a mapping whose keys take their defaults. Otherwise the key stays absent.
 */
interface Marks<T> {
  readonly required?: true;
  readonly default?: T;
  readonly filled?: true;
}

interface Fields {
  readonly [key: string]: Spec;
}

export type Spec =
  | StringSpec<string>
  | IntSpec
  | BoolSpec
  | ObjectSpec<Fields>
  | MapSpec<unknown>
  | PathSpec
  | ArraySpec<unknown>
  | CheckSpec<unknown>
  | OffOrSpec<unknown>;

/** The type of the value a spec accepts, defaults filled in. */
export type Infer<S> = S extends Typed<infer T> ? T : never;

/** Keys always there once defaults are filled in. */
type Present<F extends Fields> = { [K in keyof F]: F[K] extends { required: true } | { default: unknown } | { filled: true } ? K : never }[keyof F];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectValue<F extends Fields> = Simplify<{ -readonly [K in Present<F>]: Infer<F[K]> } & { -readonly [K in Exclude<keyof F, Present<F>>]?: Infer<F[K]> }>;

/** A builder's options: the spec's own, and its marks (kept in the spec's type, so Infer sees them). */
type Options<S, T> = Omit<S, 'type' | typeof VALUE | keyof Marks<T>> & Marks<T>;
type Kept<O> = Pick<O, Extract<keyof O, keyof Marks<unknown>>>;
/** Options without marks: the key stays absent when absent. */
type NoMarks = Record<never, never>;

type Enum<O> = O extends { enum: readonly (infer T extends string)[] } ? T : string;
type MapValue<O> = O extends { normalize: (key: string, value: unknown) => [string, infer V] } ? V : O extends { values: infer S } ? Infer<S> : unknown;

/**
 * Builders: each returns its spec typed with the value it accepts and how an absent key is
 * treated. Only string takes its options as const (its enum becomes a union of literals): a
 * default stays mutable, as the value it stands for.
 */
export const spec = {
  string: <const O extends Options<StringSpec<string>, string> = NoMarks>(o: O = {} as O) => ({ type: 'string', ...o }) as StringSpec<Enum<O>> & Kept<O>,
  int: <O extends Options<IntSpec, number> = NoMarks>(o: O = {} as O) => ({ type: 'int', ...o }) as IntSpec & Kept<O>,
  bool: <O extends Marks<boolean> = NoMarks>(o: O = {} as O) => ({ type: 'bool', ...o }) as BoolSpec & Kept<O>,
  object: <const F extends Fields, O extends Marks<ObjectValue<F>> = NoMarks>(fields: F, o: O = {} as O) =>
    ({ type: 'object', fields, ...o }) as ObjectSpec<F> & Kept<O>,
  map: <O extends Options<MapSpec<unknown>, Record<string, unknown>>>(o: O) => ({ type: 'map', ...o }) as MapSpec<MapValue<O>> & Kept<O>,
  path: <O extends Options<PathSpec, string>>(o: O) => ({ type: 'path', ...o }) as PathSpec & Kept<O>,
  array: <const S extends Spec, O extends Omit<Options<ArraySpec<Infer<S>>, Infer<S>[]>, 'items'> = NoMarks>(items: S, o: O = {} as O) =>
    ({ type: 'array', ...o, items }) as ArraySpec<Infer<S>> & Kept<O>,
  check: <T, O extends Marks<T> = NoMarks>(check: (value: unknown) => string | null, o: O = {} as O) =>
    ({ type: 'any', check, ...o }) as CheckSpec<T> & Kept<O>,
  offOr: <const S extends Spec, O extends Marks<Infer<S> | false> = NoMarks>(s: S, o: O = {} as O) =>
    ({ type: 'offOr', spec: s, ...o }) as OffOrSpec<Infer<S>> & Kept<O>,
  /** A spec with a default typed by the spec itself (for a mapping or a list of mappings, whose literal would not infer). */
  defaulted: <const S extends Spec>(s: S, value: NoInfer<Infer<S>>) => ({ ...s, default: value }) as S & { readonly default: Infer<S> },
};

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function didYouMean(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const shown = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${shown}` : shown;
}

/** Why a path is not acceptable, or null. */
export function pathProblem(value: string, allowed: readonly string[]): string | null {
  const expected = `an absolute file path below ${allowed.join(' or ')}`;
  if (!value.startsWith('/') || /[\0\n]/.test(value)) return `expected ${expected}, got ${JSON.stringify(value)}`;
  const parts = value.split('/').slice(1);
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    return `expected a normalised path (no "//", ".", ".." or trailing "/"), got ${JSON.stringify(value)}`;
  if (!allowed.some((dir) => value.startsWith(`${dir}/`))) return `expected ${expected}, got ${JSON.stringify(value)}`;
  return null;
}

export function validate(spec: Spec, value: unknown, path: string): string[] {
  const at = path || '(top level)';
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string') return [`${at}: expected a string, got ${describe(value)}`];
      if (spec.enum && !spec.enum.includes(value)) return [`${at}: expected one of ${spec.enum.join(', ')}, got ${describe(value)}`];
      if (spec.pattern && !spec.pattern.test(value))
        return [`${at}: expected ${spec.patternText ?? `a string matching ${spec.pattern}`}, got ${describe(value)}`];
      const problem = spec.check?.(value);
      return problem ? [`${at}: ${problem}`] : [];
    }
    case 'int': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return [`${at}: expected an integer, got ${describe(value)}`];
      const why = spec.why ? ` (${spec.why})` : '';
      if (spec.min !== undefined && value < spec.min) return [`${at}: expected an integer of at least ${spec.min}${why}, got ${value}`];
      if (spec.max !== undefined && value > spec.max) return [`${at}: expected an integer of at most ${spec.max}${why}, got ${value}`];
      return [];
    }
    case 'bool':
      return typeof value === 'boolean' ? [] : [`${at}: expected true or false, got ${describe(value)}`];
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected a mapping, got ${describe(value)}`];
      const problems: string[] = [];
      const known = Object.keys(spec.fields);
      for (const [key, child] of Object.entries(value)) {
        // Own keys only: "__proto__" or "constructor" in a file must not find Object's.
        const childSpec = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
        if (!childSpec) {
          problems.push(`${join(path, key)}: unknown key${didYouMean(key, known)}; expected one of ${known.join(', ')}`);
          continue;
        }
        problems.push(...validate(childSpec, child, join(path, key)));
      }
      for (const [key, child] of Object.entries(spec.fields)) {
        if (child.required && !Object.hasOwn(value, key)) problems.push(`${join(path, key)}: required key is missing`);
      }
      return problems;
    }
    case 'map': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected a mapping, got ${describe(value)}`];
      const problems: string[] = [];
      for (const [key, child] of Object.entries(value)) {
        if (spec.keyPattern && !spec.keyPattern.test(key)) {
          problems.push(`${join(path, key)}: expected a key that is ${spec.keyText ?? `matching ${spec.keyPattern}`}`);
          continue;
        }
        const before = problems.length;
        problems.push(...validate(spec.values, child, join(path, key)));
        const entryProblem = problems.length === before ? spec.entry?.(key, child) : null;
        if (entryProblem) problems.push(`${join(path, key)}: ${entryProblem}`);
      }
      return problems;
    }
    case 'path': {
      if (typeof value !== 'string') return [`${at}: expected a path, got ${describe(value)}`];
      const problem = pathProblem(value, spec.allowed) ?? spec.check?.(value);
      return problem ? [`${at}: ${problem}`] : [];
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: expected a list, got ${describe(value)}`];
      const problems: string[] = [];
      if (spec.minItems !== undefined && value.length < spec.minItems) problems.push(`${at}: expected at least ${spec.minItems} item(s), got ${value.length}`);
      value.forEach((item, i) => {
        problems.push(...validate(spec.items, item, join(path, i)));
      });
      if (spec.unique) {
        const seen = new Set<string>();
        for (const item of value) {
          const k = JSON.stringify(item);
          if (seen.has(k)) problems.push(`${at}: ${k} is listed twice`);
          seen.add(k);
        }
      }
      return problems;
    }
    case 'offOr':
      return value === false ? [] : validate(spec.spec, value, at);
    case 'any': {
      const problem = spec.check(value);
      return problem ? [`${at}: ${problem}`] : [];
    }
  }
}

/**
 * A validated value with every absent key that has a default filled in (defaults copied, never
 * shared), and map entries normalised. Call it on what validate accepted.
 */
export function withDefaults<S extends Spec>(spec: S, value: unknown): Infer<S> {
  return fill(spec, value) as Infer<S>;
}

function fill(spec: Spec, value: unknown): unknown {
  if (value === undefined) {
    if (spec.default !== undefined) return structuredClone(spec.default);
    if (spec.filled && spec.type === 'object') return fill(spec, {});
    return undefined;
  }
  switch (spec.type) {
    case 'object': {
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(spec.fields)) {
        const v = fill(child, Object.hasOwn(input, key) ? input[key] : undefined);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    case 'map': {
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]): [string, unknown] =>
        spec.normalize ? spec.normalize(k, v) : [k, fill(spec.values, v)],
      );
      return Object.fromEntries(entries);
    }
    case 'array':
      return (value as unknown[]).map((item) => fill(spec.items, item));
    case 'offOr':
      return value === false ? false : fill(spec.spec, value);
    default:
      return value;
  }
}
