/**
 * A small declarative schema for the configuration file: each problem names the key, what was
 * expected and what was found. Pure.
 */
export type Spec =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp; patternText?: string; check?: (value: string) => string | null }
  | { type: 'int'; min?: number; max?: number; why?: string }
  | { type: 'bool' }
  | { type: 'object'; fields: Record<string, Spec>; required?: readonly string[] }
  | { type: 'map'; values: Spec; keyPattern?: RegExp; keyText?: string; entry?: (key: string, value: unknown) => string | null }
  /** An absolute, normalised path of a file below one of the allowed directories. */
  | { type: 'path'; allowed: readonly string[]; check?: (value: string) => string | null }
  | { type: 'array'; items: Spec; minItems?: number; unique?: boolean }
  | { type: 'any'; check: (value: unknown) => string | null };

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
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return `expected a normalised path (no "//", ".", ".." or trailing "/"), got ${JSON.stringify(value)}`;
  if (!allowed.some((dir) => value.startsWith(`${dir}/`))) return `expected ${expected}, got ${JSON.stringify(value)}`;
  return null;
}

export function validate(spec: Spec, value: unknown, path: string): string[] {
  const at = path || '(top level)';
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string') return [`${at}: expected a string, got ${describe(value)}`];
      if (spec.enum && !spec.enum.includes(value)) return [`${at}: expected one of ${spec.enum.join(', ')}, got ${describe(value)}`];
      if (spec.pattern && !spec.pattern.test(value)) return [`${at}: expected ${spec.patternText ?? `a string matching ${spec.pattern}`}, got ${describe(value)}`];
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
      for (const key of spec.required ?? []) {
        if (!(key in value)) problems.push(`${join(path, key)}: required key is missing`);
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
      value.forEach((item, i) => problems.push(...validate(spec.items, item, join(path, i))));
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
    case 'any': {
      const problem = spec.check(value);
      return problem ? [`${at}: ${problem}`] : [];
    }
  }
}
