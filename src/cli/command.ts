import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

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

/**
 * node:util `parseArgs`, with its errors (unknown option, missing value) turned into a
 * `UsageError`; `usage`, when given, is appended to the message.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
  usage?: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = (error as Error).message;
    throw new UsageError(usage === undefined ? message : `${message}\n\n${usage}`);
  }
}
