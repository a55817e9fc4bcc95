/**
 * Whether standard error is the journal's stream: systemd sets JOURNAL_STREAM to the device and
 * inode of the stream it connects (systemd.exec(5)), and a process whose file descriptor 2 is
 * that stream writes lines with a syslog priority prefix ("<4>", sd-daemon(3)). A fact of this
 * process, looked at through descriptor 2.
 */
import * as fs from 'node:fs';

/** Whether fd 2 is the stream systemd connected to the journal. */
export function journalStream(env: NodeJS.ProcessEnv = process.env): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fs.fstatSync(2);
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}
