/**
 * The command table: every command k3s-hostprep knows, in the order help lists them. A command
 * is one module (its name, summary, options with their help, and run); adding one is adding a
 * row here.
 */
import { EXIT, UsageError } from '../errors.js';
import { apply } from './apply.js';
import { check } from './check.js';
import { command, type Command } from './command.js';
import { commandHelp, usage } from './help.js';
import { install, uninstall } from './install.js';
import { closest } from './parse.js';
import { plan } from './plan.js';
import { render } from './render.js';
import { serviceAccounts } from './service-accounts.js';
import { validate } from './validate.js';
import { watch } from './watch.js';

/** `help [command]`: the list of commands, or one command's help. */
const help = command({
  name: 'help',
  summary: "print the list of commands, or a command's help",
  operands: '[command]',
  maxOperands: 1,
  description: "Prints the list of commands, or with a command name that command's usage and options.",
  options: {},
  async run({ positionals }, io) {
    const name = positionals[0];
    if (name === undefined) {
      io.out.write(usage(COMMANDS));
      return EXIT.compliant;
    }
    const found = COMMANDS.find((c) => c.name === name);
    if (!found) {
      const guess = closest(
        name,
        COMMANDS.map((c) => c.name),
      );
      throw new UsageError(`help: unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ''} (see k3s-hostprep --help)`);
    }
    io.out.write(commandHelp(found));
    return EXIT.compliant;
  },
});

export const COMMANDS: readonly Command[] = [
  apply,
  check,
  plan,
  render,
  install,
  uninstall,
  serviceAccounts,
  watch,
  validate,
  help,
] as unknown as readonly Command[];
