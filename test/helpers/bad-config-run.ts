/**
 * Runs apply with each of many configuration files through the built command, all in one private
 * mount namespace (one shell loop: one namespace for the lot), and reports per file the exit code
 * and standard error; then whether anything at all was written.
 */
import fs from 'fs-extra';
import * as path from 'node:path';
import { CLI, HOSTILE, Sandbox } from './sandbox.js';

export interface ConfigRun {
  file: string;
  exitCode: number;
  stderr: string;
}

export interface ConfigRunResult {
  runs: ConfigRun[];
  /** Files found afterwards where apply writes (sysctl.d, /var/lib, /run, /etc), and kernel values changed. */
  written: string[];
}

export async function applyEach(files: string[], extraArgs: string[] = []): Promise<ConfigRunResult> {
  const s = new Sandbox({ kernel: HOSTILE });
  try {
    const list = s.path('configs.txt');
    const out = s.path('out');
    fs.mkdirpSync(out);
    fs.writeFileSync(list, files.join('\n') + '\n');
    const args = extraArgs.map((a) => `'${a}'`).join(' ');
    const script = `i=0; while IFS= read -r f; do i=$((i+1)); ${process.execPath} ${CLI} apply ${args} --config "$f" >/dev/null 2>"${out}/$i.err"; echo $? > "${out}/$i.rc"; done < ${list}`;
    const r = await s.exec(['sh', '-c', script], {}, 300_000);
    if (r.exitCode !== 0) throw new Error(`the loop failed: ${r.stderr}`);
    const runs = files.map((file, i) => ({
      file,
      exitCode: Number(fs.readFileSync(path.join(out, `${i + 1}.rc`), 'utf8').trim()),
      stderr: fs.readFileSync(path.join(out, `${i + 1}.err`), 'utf8'),
    }));
    const written = [
      ...s.list('etc-sysctl.d').map((p) => `/etc/sysctl.d/${p}`),
      ...s.list('var-lib').map((p) => `/var/lib/${p}`),
      ...s.list('run').map((p) => `/run/${p}`),
      ...s.list('etc-upper').map((p) => `/etc/${p}`),
      ...Object.entries(HOSTILE)
        .filter(([k, v]) => s.kernel(k) !== v)
        .map(([k]) => `kernel ${k}`),
    ];
    return { runs, written };
  } finally {
    s.dispose();
  }
}
