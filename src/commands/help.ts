/** The help texts, made from the command table: each command's usage line and its options. Pure. */
import type { Command } from './command.js';
import { HELP, type AnyOption } from './options.js';

function optionColumn(option: AnyOption): string {
  const long = `--${option.name}${option.value !== undefined ? ` ${option.value}` : ''}`;
  return option.short !== undefined ? `-${option.short}, ${long}` : `    ${long}`;
}

/** Option lines with the help beside them, wrapped at 110 columns. */
export function optionLines(options: readonly AnyOption[]): string {
  const width = Math.max(...options.map((o) => optionColumn(o).length)) + 2;
  return options
    .map((o) => {
      const words = o.help.split(' ');
      const lines: string[] = [];
      let current = '';
      for (const word of words) {
        if (current !== '' && width + 2 + current.length + 1 + word.length > 110) {
          lines.push(current);
          current = word;
        } else current = current === '' ? word : `${current} ${word}`;
      }
      lines.push(current);
      return lines.map((text, i) => `  ${(i === 0 ? optionColumn(o) : '').padEnd(width)}${text}`).join('\n');
    })
    .join('\n');
}

export function synopsis(command: Command): string {
  const options = Object.values(command.options);
  return ['k3s-hostprep', command.name, command.operands, options.length > 0 ? '[options]' : undefined].filter(Boolean).join(' ');
}

export function commandHelp(command: Command): string {
  const description = typeof command.description === 'function' ? command.description() : command.description;
  return `Usage: ${synopsis(command)}

${description.trim()}

Options:
${optionLines([...Object.values(command.options), HELP])}
`;
}

export function usage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => `${c.name}${c.operands ? ` ${c.operands}` : ''}`.length)) + 2;
  return `k3s-hostprep: prepares a host for a hardened K3s node and proves it.

Usage: k3s-hostprep <command> [options]

Commands:
${commands.map((c) => `  ${`${c.name}${c.operands ? ` ${c.operands}` : ''}`.padEnd(width)}${c.summary}`).join('\n')}

k3s-hostprep help <command> (or k3s-hostprep <command> --help) lists a command's options.
k3s-hostprep --version prints the version.

Exit codes: 0 compliant; 1 not compliant; 2 usage or configuration error (nothing written);
3 the host could not be read or changed.
`;
}
