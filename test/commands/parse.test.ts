/**
 * The command line from the command table: every command parses exactly the options it
 * declares, every mistake is one line with a suggestion and a pointer to the command's help.
 */
import test from 'ava';
import { COMMANDS } from '../../src/commands/index.js';
import { parseCommandLine } from '../../src/commands/parse.js';
import { UsageError } from '../../src/errors.js';

const parse = (...argv: string[]) => parseCommandLine(argv, COMMANDS);
const fails = (argv: string[]) => {
  try {
    parse(...argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`${argv.join(' ')} parsed`);
};

test('every command takes each option it declares, with a value where one is due', (t) => {
  const sample: Record<string, string> = {
    FILE: '/tmp/x',
    DIR: '/tmp',
    'server|agent': 'agent',
    V: 'v1.28',
    SECONDS: '5',
    N: '2',
    URL: 'https://x/y.tgz',
    HEX: 'ab',
    NAME: 'k3s-cis-1.9',
  };
  for (const c of COMMANDS) {
    for (const [key, option] of Object.entries(c.options)) {
      const argv = option.value === undefined ? [c.name, `--${option.name}`] : [c.name, `--${option.name}`, sample[option.value]!];
      const parsed = parse(...argv);
      t.is(parsed.command?.name, c.name);
      t.not(parsed.values[key], undefined, `${argv.join(' ')}`);
    }
  }
});

test('install and uninstall take what they declare and nothing else', (t) => {
  t.like(parse('install', '--root', '/mnt/img', '--binary', '/tmp/k3s-hostprep', '--force').values, {
    root: '/mnt/img',
    binary: '/tmp/k3s-hostprep',
    force: true,
  });
  t.is(fails(['install', '--json']), 'install does not take --json (see k3s-hostprep install --help)');
  t.is(fails(['install', '--binary', '']), '--binary: expected a path, got an empty string (see k3s-hostprep install --help)');
  t.is(fails(['uninstall', '--binary', '/x']), 'uninstall does not take --binary (see k3s-hostprep uninstall --help)');
  t.is(fails(['install', 'now']), 'install: unexpected argument "now" (see k3s-hostprep install --help)');
});

test('an unknown option gets a "did you mean" and a pointer to the command\'s help, in one line', (t) => {
  t.is(fails(['check', '--jsn']), 'check: unknown option --jsn; did you mean --json? (see k3s-hostprep check --help)');
  t.is(fails(['apply', '--forse']), 'apply: unknown option --forse; did you mean --force? (see k3s-hostprep apply --help)');
  t.is(fails(['apply', '--k3s-versoin', 'v1.28']), 'apply: unknown option --k3s-versoin; did you mean --k3s-version? (see k3s-hostprep apply --help)');
  t.is(fails(['plan', '--zzzzzz']), 'plan: unknown option --zzzzzz (see k3s-hostprep plan --help)');
  t.is(fails(['chek']), 'unknown command "chek"; did you mean "check"? (see k3s-hostprep --help)');
  t.is(fails(['check', '-x']), 'check: unknown option -x (see k3s-hostprep check --help)');
  for (const argv of [['check', '--jsn'], ['apply', '--wait', '-1'], ['chek'], ['install', '--json']]) t.false(fails(argv).includes('\n'), argv.join(' '));
});

test('a bad value is one clear line: --wait -1 is a bad number, not an unknown option', (t) => {
  t.is(fails(['apply', '--wait', '-1']), '--wait: expected a number of seconds from 0 to 86400, got "-1" (see k3s-hostprep apply --help)');
  t.is(fails(['apply', '--wait=abc']), '--wait: expected a number of seconds from 0 to 86400, got "abc" (see k3s-hostprep apply --help)');
  t.like(parse('apply', '--wait', '2.5').values, { wait: 2.5 });
  t.like(parse('apply', '--wait=0').values, { wait: 0 });
  t.is(fails(['check', '--config']), '--config: expected FILE, got nothing');
  t.is(fails(['check', '--config', '--json']), '--config: expected FILE, got the option --json');
  t.is(fails(['check', '--json=yes']), '--json takes no value, got "yes"');
  t.is(fails(['check', '--role', 'master']), '--role: expected server or agent, got "master" (see k3s-hostprep check --help)');
  t.is(fails(['check', '--json', '--json']), 'check: --json given twice (see k3s-hostprep check --help)');
});

test('service-accounts takes a whole number of seconds', (t) => {
  t.like(parse('service-accounts', '--timeout', '30', '--json').values, { timeout: 30, json: true });
  for (const bad of ['0', '1.5', 'ten', '86401'])
    t.regex(fails(['service-accounts', '--timeout', bad]), new RegExp(`^--timeout: expected whole seconds from 1 to 86400, got "${bad}"`));
  t.regex(fails(['service-accounts', '--root', '/x']), /^service-accounts does not take --root/);
});

test('only render takes the release details of cloud-init, and one artefact', (t) => {
  t.like(parse('render', 'cloud-init', '--agent-url', 'https://x/y.tgz', '--agent-sha256', 'ab'), {
    positionals: ['cloud-init'],
    values: { agentUrl: 'https://x/y.tgz', agentSha256: 'ab' },
  });
  t.regex(fails(['apply', '--agent-url', 'https://x']), /^apply does not take --agent-url/);
  t.is(fails(['render', 'a', 'b']), 'render: unexpected argument "b" (it takes <artefact>) (see k3s-hostprep render --help)');
});

test('--help and -h anywhere ask for help; --version only alone', (t) => {
  t.like(parse('check', '--help'), { help: true });
  t.like(parse('-h'), { help: true, command: null });
  t.like(parse('--version'), { version: true });
  t.regex(fails(['check', '--version']), /^check does not take --version/);
  t.like(parse('help', 'check'), { positionals: ['check'] });
});
