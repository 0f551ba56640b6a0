/** One CLI command: `npm run cli -- <name> [arguments]`. */
export interface CliCommand {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A failure the user caused and can fix: printed as one line, no stack trace, exit code 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}
