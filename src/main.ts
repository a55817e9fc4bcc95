/** The edge: finds the command in the table, runs it, and maps errors to exit codes. */
import { COMMANDS } from './commands/index.js';
import { commandHelp, usage } from './commands/help.js';
import { parseCommandLine, type Parsed } from './commands/parse.js';
import { EXIT, HostprepError } from './errors.js';
import type { Output } from './host/fd-output.js';
import { VERSION } from './version.js';

export async function main(argv: readonly string[], out: Output, err: Output): Promise<number> {
  let parsed: Parsed | undefined;
  try {
    parsed = parseCommandLine(argv, COMMANDS);
    if (parsed.version) {
      out.write(`${VERSION}\n`);
      return EXIT.compliant;
    }
    if (parsed.help) {
      out.write(parsed.command ? commandHelp(parsed.command) : usage(COMMANDS));
      return EXIT.compliant;
    }
    if (parsed.command === null) {
      err.write(usage(COMMANDS));
      return EXIT.usage;
    }
    return await parsed.command.run({ values: parsed.values, positionals: parsed.positionals }, { out, err, argv });
  } catch (error) {
    const known = error instanceof HostprepError;
    const code = known ? error.exitCode : EXIT.host;
    const message = known ? error.message : `unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    if (parsed?.values.json === true)
      out.write(JSON.stringify({ tool: 'k3s-hostprep', error: { type: known ? error.name : 'Error', message }, exitCode: code }, null, 2) + '\n');
    err.write(`k3s-hostprep: ${message}\n`);
    return code;
  }
}
