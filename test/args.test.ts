/** The command line of install, uninstall, service-accounts and render cloud-init: strict per command. */
import test from 'ava';
import { parseInvocation } from '../src/args.js';
import { UsageError } from '../src/errors.js';
import { commandHelp } from '../src/help.js';

test('install takes --root, --binary and --force, and nothing else', (t) => {
  t.like(parseInvocation(['install', '--root', '/mnt/img', '--binary', '/tmp/k3s-hostprep', '--force']), { command: 'install', root: '/mnt/img', binary: '/tmp/k3s-hostprep', force: true });
  t.throws(() => parseInvocation(['install', '--json']), { instanceOf: UsageError, message: 'install does not take --json' });
  t.throws(() => parseInvocation(['install', '--binary', '']), { instanceOf: UsageError, message: '--binary: expected a path, got an empty string' });
  t.throws(() => parseInvocation(['uninstall', '--binary', '/x']), { instanceOf: UsageError, message: 'uninstall does not take --binary' });
  t.throws(() => parseInvocation(['install', 'now']), { instanceOf: UsageError, message: 'unexpected argument "now"' });
});

test('service-accounts takes a whole number of seconds', (t) => {
  t.like(parseInvocation(['service-accounts', '--timeout', '30', '--json']), { command: 'service-accounts', timeoutSeconds: 30, json: true });
  for (const bad of ['0', '1.5', 'ten', '86401']) {
    t.throws(() => parseInvocation(['service-accounts', '--timeout', bad]), { instanceOf: UsageError, message: new RegExp(`--timeout: expected whole seconds from 1 to 86400, got "${bad}"`) });
  }
  t.throws(() => parseInvocation(['service-accounts', '--root', '/x']), { instanceOf: UsageError, message: 'service-accounts does not take --root' });
});

test('only render takes the release details of cloud-init', (t) => {
  t.like(parseInvocation(['render', 'cloud-init', '--agent-url', 'https://x/y.tgz', '--agent-sha256', 'ab']), { artefact: 'cloud-init', agentUrl: 'https://x/y.tgz', agentSha256: 'ab' });
  t.throws(() => parseInvocation(['apply', '--agent-url', 'https://x']), { instanceOf: UsageError, message: 'apply does not take --agent-url' });
});

test('every new command has its help', (t) => {
  for (const c of ['install', 'uninstall', 'service-accounts'] as const) t.regex(commandHelp(c), new RegExp(`^Usage: k3s-hostprep ${c}`));
  t.regex(commandHelp('render'), /cloud-init\s+a #cloud-config/);
  t.regex(commandHelp(null), /k3s-hostprep install/);
});
