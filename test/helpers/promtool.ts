import { execaSync } from 'execa';

/** `promtool check metrics` on a text; promtool ships in Debian's prometheus package, which CI installs (.ci/run). */
export function promtool(text: string): { exitCode: number; output: string } {
  const result = execaSync('promtool', ['check', 'metrics'], { input: text, reject: false });
  if ((result as { code?: string }).code === 'ENOENT' || result.exitCode === undefined)
    throw new Error('promtool is not installed (apt-get install prometheus)');
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` };
}
