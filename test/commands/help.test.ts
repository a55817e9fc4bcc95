/**
 * The help is made from the same declaration as the parser: each command's help lists exactly
 * the options it takes, the README's usage is the generated one, and `help [command]` works.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/commands/index.js';
import { commandHelp, usage } from '../../src/commands/help.js';
import { REPO } from '../helpers/sandbox.js';

function sink() {
  let text = '';
  const write = (s: string) => {
    text += s;
    return true;
  };
  return { stream: { write } as unknown as NodeJS.WritableStream, text: () => text };
}

test("each command's help lists exactly the options it parses", (t) => {
  for (const c of COMMANDS) {
    const help = commandHelp(c);
    const listed = new Set([...help.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!));
    const declared = new Set([...Object.values(c.options).map((o) => o.name), 'help']);
    t.deepEqual([...listed].sort(), [...declared].sort(), c.name);
    // Every option the help mentions anywhere, in prose too, is one the command takes.
    for (const m of help.matchAll(/(?<!k3s )--([a-z][a-z0-9-]*)/g)) t.true(declared.has(m[1]!), `${c.name} --help mentions --${m[1]}, which it does not take`);
    t.regex(help, new RegExp(`^Usage: k3s-hostprep ${c.name}`));
  }
});

test('the options the README lists are those the commands take', (t) => {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  t.true(readme.includes(usage(COMMANDS)), 'the README shows k3s-hostprep --help as it is');
  for (const [command, option] of [
    ['apply', 'wait'],
    ['install', 'force'],
    ['service-accounts', 'json'],
    ['check', 'junit'],
    ['install', 'config'],
    ['watch', 'k3s-version'],
  ]) {
    const c = COMMANDS.find((x) => x.name === command)!;
    t.true(commandHelp(c).includes(`--${option}`), `${command} --help lists --${option}`);
  }
});

test("help [command] prints the list or one command's help; an unknown one is exit 2 with a suggestion", async (t) => {
  const { main } = await import('../../src/main.js');
  for (const [argv, want] of [
    [['help'], usage(COMMANDS)],
    [['help', 'install'], commandHelp(COMMANDS.find((c) => c.name === 'install')!)],
    [['install', '--help'], commandHelp(COMMANDS.find((c) => c.name === 'install')!)],
  ] as const) {
    const out = sink();
    const err = sink();
    t.is(await main(argv, out.stream, err.stream), 0);
    t.is(out.text(), want);
  }
  const out = sink();
  const err = sink();
  t.is(await main(['help', 'instal'], out.stream, err.stream), 2);
  t.is(err.text(), 'k3s-hostprep: help: unknown command "instal"; did you mean "install"? (see k3s-hostprep --help)\n');
});

test('render --help lists the artefacts', (t) => {
  t.regex(commandHelp(COMMANDS.find((c) => c.name === 'render')!), /cloud-init\s+a #cloud-config/);
});
