/**
 * The command's standard output and error, written with write(2) on descriptors 1 and 2.
 * process.stdout and process.stderr are streams: the first use of either loads Node's stream
 * machinery (and, for a pipe or the journal's socket, net), a measurable share of a run that
 * lasts little more than Node's own start. A report is written once, whole, so a synchronous
 * write loses nothing, and nothing is left in a buffer when the process exits.
 */
import * as fs from 'node:fs';

/** What a command writes to: the part of a stream it uses. */
export interface Output {
  write(text: string): unknown;
}

/** Waits ms without spinning, for a descriptor that is full (a non-blocking pipe). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * An Output on descriptor fd. A non-blocking descriptor that is full (EAGAIN) is waited on; a
 * reader that went away (EPIPE: `| head`) ends the output quietly, as a stream would be closed.
 */
export function fdOutput(fd: number, write: typeof fs.writeSync = fs.writeSync): Output {
  let closed = false;
  return {
    write(text: string): boolean {
      if (closed) return false;
      let bytes = Buffer.from(text, 'utf8');
      while (bytes.length > 0) {
        try {
          bytes = bytes.subarray(write(fd, bytes));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') pause(5);
          else if (code === 'EPIPE') {
            closed = true;
            return false;
          } else throw error;
        }
      }
      return true;
    },
  };
}
