/**
 * Values that come from files and configuration are shown escaped: a control character in a
 * configuration value must not move the cursor of a terminal, nor start a new line that the
 * journal would read with a priority prefix of its own ("<0>" is emerg). Pure.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Every control character (newlines and tabs included) as \n, \t, \r or \xHH / \uHHHH. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
