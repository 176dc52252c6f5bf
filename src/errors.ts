/**
 * Every error a user can cause, in one file (nats.js style). The CLI prints `error.message` as one line
 * and exits with code 2 for these; anything else is a bug and keeps its stack trace.
 */

/** Something in an input file is wrong: names the file and, where known, the line and column. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(
      `${file}${line !== undefined ? `:${line}${column !== undefined ? `:${column}` : ''}` : ''}: ${detail}`,
      options,
    );
  }
}

/** A command-line option or argument is wrong: names the option. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A model parameter is outside its valid range (MovSim-style up-front validation). */
export class ParameterError extends Error {
  override readonly name = 'ParameterError';
  constructor(
    readonly owner: string,
    readonly parameter: string,
    message: string,
  ) {
    super(`${owner}: ${parameter} ${message}`);
  }
}

/** HTTP status of a rejected online command: malformed, unknown target, conflicting with the run. */
export const CommandStatus = { malformed: 400, notFound: 404, conflict: 409 } as const;
export type CommandStatus = (typeof CommandStatus)[keyof typeof CommandStatus];

/**
 * An online command (src/sim/commands.ts) is malformed (400), names something the network or demand
 * does not have (404), or conflicts with the run (409, e.g. a vehicle id already used). The message
 * names the field and the value.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly status: CommandStatus,
    message: string,
  ) {
    super(message);
  }
}

/** True for errors that are the user's to fix: print one line, exit 2. */
export function isUserError(e: unknown): e is InputError | UsageError | ParameterError | CommandError {
  return e instanceof InputError || e instanceof UsageError || e instanceof ParameterError || e instanceof CommandError;
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}

/** A request to the control API is wrong (HTTP 4xx): `status` is the code, the message one line naming what. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
