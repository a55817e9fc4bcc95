/**
 * The command line, parsed against the command table: every mistake is one UsageError line
 * (exit 2) that says what was wrong, suggests the closest name for a typo and points at the
 * command's help. An option's value is the next argument even when it starts with "-"
 * ("--wait -1" is a bad number, not an unknown option), unless it is one of the options.
 */
import { UsageError } from '../errors.js';
import type { Command, Options } from './command.js';
import { HELP, VERSION, type AnyOption } from './options.js';

export interface Parsed {
  /** null: no command given (only --help or --version, or nothing). */
  command: Command | null;
  help: boolean;
  version: boolean;
  values: Record<string, unknown>;
  positionals: string[];
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest of the candidates, when it is close enough to be a typo (or the word starts it). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function helpPointer(command: Command | null): string {
  return command ? `see k3s-hostprep ${command.name} --help` : 'see k3s-hostprep --help';
}

interface Token {
  option: AnyOption | null;
  /** As written: "--jsn", "-x". */
  text: string;
  value?: string;
}

export function parseCommandLine(argv: readonly string[], commands: readonly Command[]): Parsed {
  // Every option any command declares, by name: a name means one thing everywhere.
  const known = new Map<string, AnyOption>();
  for (const option of [HELP, VERSION, ...commands.flatMap((c) => Object.values(c.options))]) known.set(option.name, option);
  const byShort = new Map([...known.values()].filter((o) => o.short !== undefined).map((o) => [o.short!, o]));

  const tokens: Token[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const option = known.get(name) ?? null;
      const text = `--${name}`;
      if (option === null || option.value === undefined) {
        if (option !== null && eq >= 0) throw new UsageError(`${text} takes no value, got "${arg.slice(eq + 1)}"`);
        tokens.push({ option, text });
        continue;
      }
      const value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${text}: expected ${option.value}, got nothing`);
      if (eq < 0 && value.startsWith('--') && known.has(value.slice(2).split('=')[0]!)) {
        throw new UsageError(`${text}: expected ${option.value}, got the option ${value}`);
      }
      tokens.push({ option, text, value });
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      tokens.push({ option: arg.length === 2 ? (byShort.get(arg.slice(1)) ?? null) : null, text: arg });
      continue;
    }
    positionals.push(arg);
  }

  const [name, ...operands] = positionals;
  const command = name === undefined ? null : (commands.find((c) => c.name === name) ?? null);
  if (name !== undefined && command === null) {
    const guess = closest(
      name,
      commands.map((c) => c.name),
    );
    throw new UsageError(
      `unknown command "${name}"${guess ? `; did you mean "${guess}"?` : `; expected one of ${commands.map((c) => c.name).join(', ')}`} (see k3s-hostprep --help)`,
    );
  }
  const where = command ? `${command.name}: ` : '';
  const takes: Options = command ? { help: HELP, ...command.options } : { help: HELP, version: VERSION };
  const keyOf = new Map(Object.entries(takes).map(([key, option]) => [option.name, key]));

  const values: Record<string, unknown> = {};
  for (const token of tokens) {
    const key = token.option ? keyOf.get(token.option.name) : undefined;
    if (key === undefined) {
      const names = Object.values(takes).map((o) => `--${o.name}`);
      const guess = token.text.startsWith('--') ? closest(token.text, names) : undefined;
      const what = token.option ? `${command ? `${command.name} ` : ''}does not take ${token.text}` : `${where}unknown option ${token.text}`;
      throw new UsageError(`${what}${guess ? `; did you mean ${guess}?` : ''} (${helpPointer(command)})`);
    }
    if (key in values) throw new UsageError(`${where}${token.text} given twice (${helpPointer(command)})`);
    try {
      values[key] = token.value === undefined ? true : token.option!.parse(token.value);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${error.message} (${helpPointer(command)})`, { cause: error });
      throw error;
    }
  }
  const help = values.help === true;
  const version = values.version === true;
  delete values.help;
  delete values.version;
  if (!help && command && operands.length > (command.maxOperands ?? 0)) {
    const extra = operands[command.maxOperands ?? 0]!;
    throw new UsageError(`${where}unexpected argument "${extra}"${command.operands ? ` (it takes ${command.operands})` : ''} (${helpPointer(command)})`);
  }
  return { command, help, version, values, positionals: operands };
}
