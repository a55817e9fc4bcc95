/** Kept equal to package.json's version (a test checks it), so that a bundled binary knows it too. */
export const VERSION = '0.1.0';
