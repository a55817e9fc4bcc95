/**
 * A racing attacker: a separate process that exchanges two directory entries with
 * renameat2(RENAME_EXCHANGE) as fast as it can (python3 ctypes: Node has no renameat2), so that
 * a path checked a moment ago names something else now. It counts the exchanges it made.
 */
import { execa, type ResultPromise } from 'execa';

const SCRIPT = `
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2
a, b = sys.argv[1].encode(), sys.argv[2].encode()
n = 0
stop = False
def done(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
print('ready', flush=True)
while not stop:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0:
        n += 1
print(n, flush=True)
`;

export interface Swapper {
  /** Stops the swapper; resolves to the number of exchanges it made. Both entries are back where they started when it was even. */
  stop(): Promise<number>;
}

export async function startSwapper(a: string, b: string): Promise<Swapper> {
  const child: ResultPromise = execa('python3', ['-c', SCRIPT, a, b], { reject: false, stdin: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('error', reject);
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      const result = await child;
      const lines = String(result.stdout).trim().split('\n');
      return Number(lines[lines.length - 1]);
    },
  };
}
