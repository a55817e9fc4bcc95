/**
 * One command: its name, what it does, the options it takes and what it runs. The parser
 * (parse.ts) and the help (help.ts) are made from this declaration alone.
 */
import type { Output } from '../host/fd-output.js';
import type { AnyOption, Option } from './options.js';

export type Options = Record<string, AnyOption>;

/** The parsed values of a command's options, by the keys the command declared them under. */
export type Values<O extends Options> = { [K in keyof O]?: O[K] extends Option<infer T> ? T : never };

export interface Io {
  out: Output;
  err: Output;
  /** The command line as given: a run that knows it may be remembered for replay (src/replay/last-run.ts). */
  argv?: readonly string[];
}

export interface Invocation<O extends Options> {
  values: Values<O>;
  positionals: string[];
}

export interface Command<O extends Options = Options> {
  readonly name: string;
  /** One line, for the list of commands. */
  readonly summary: string;
  /** What follows the name in the usage line before the options, e.g. "<artefact>". */
  readonly operands?: string;
  /** How many operands it takes at most (default 0). */
  readonly maxOperands?: number;
  /** The paragraphs of its help (a function when they depend on data, such as render's artefacts). */
  readonly description: string | (() => string);
  readonly options: O;
  run(invocation: Invocation<O>, io: Io): Promise<number>;
}

/** Declares a command; the identity, for the types. */
export function command<O extends Options>(c: Command<O>): Command<O> {
  return c;
}
