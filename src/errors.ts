/**
 * One error base class for the project. Everything inside returns result objects; errors are
 * thrown only for conditions that end the run, and the CLI edge maps them to an exit code.
 */
export const EXIT = {
  compliant: 0,
  notCompliant: 1,
  usage: 2,
  host: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class HostprepError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad flag or command line. Exit 2, nothing written. */
export class UsageError extends HostprepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** A configuration that does not validate. Exit 2, nothing written. */
export class ConfigError extends HostprepError {
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[], options?: { cause?: unknown }) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`}`, EXIT.usage, options);
    this.file = file;
    this.problems = problems;
  }
}

/** The host could not be read or changed (not root, read-only /proc/sys, sysctl failed). Exit 3. */
export class HostError extends HostprepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.host, options);
  }
}

/** A short, single-line description of an unknown thrown value, for reports. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
