/**
 * One structured pino logger for the process, with a child per area (`bot`, `commands`, `db`,
 * `retrain`, `import`). Human-readable through pino-pretty on a terminal, JSON lines otherwise.
 * Secrets (the Discord token) are redacted by field name AND scrubbed from every written line,
 * so a token inside an error message or stack never reaches the log either.
 */
import { createRequire } from 'node:module';
import pino from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';

/** The areas that log. */
export type LogArea = 'bot' | 'commands' | 'db' | 'retrain' | 'import';

/** Options of createLogger. */
export interface LoggerOptions {
  level?: Level | 'silent';
  /** Strings that must never be written (empty or short values are ignored). */
  secrets?: (string | undefined)[];
  /** Where lines go: a stream, or a file descriptor (default 1, stdout). */
  destination?: DestinationStream | number;
  /** Pretty-print; default: when the destination is a terminal file descriptor. */
  pretty?: boolean;
}

/** What replaces a secret in the log. */
export const REDACTED = '[redacted]';

const REDACT_PATHS = [
  'token', 'discordToken', '*.token', '*.discordToken', 'config.discordToken',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
];

type Format = (line: string) => string;

/** A destination that formats each line (pretty or as is) and scrubs every secret from it. */
function scrubbing(destination: DestinationStream, secrets: string[], format: Format)
  : DestinationStream {
  return {
    write(line: string) {
      let clean = format(line);
      for (const secret of secrets) clean = clean.split(secret).join(REDACTED);
      destination.write(clean);
    },
  };
}

function prettyFormat(): Format | undefined {
  // Optional: without pino-pretty installed the log stays JSON.
  try {
    const require = createRequire(import.meta.url);
    const { prettyFactory } = require('pino-pretty') as {
      prettyFactory: (options: object) => (line: string) => string;
    };
    return prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

/**
 * Builds the root logger. Every line passes through a scrubber that replaces each secret with
 * `[redacted]`; fields named like a token are redacted by pino as well.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter(
    (secret): secret is string => secret !== undefined && secret.length >= 8);
  const target = options.destination ?? 1;
  const isTerminal = typeof target === 'number' &&
    (target === 1 ? process.stdout.isTTY : target === 2 ? process.stderr.isTTY : false) === true;
  const raw: DestinationStream = typeof target === 'number'
    ? pino.destination({ dest: target, sync: true })
    : target;
  const pretty = (options.pretty ?? isTerminal) ? prettyFormat() : undefined;
  const output = scrubbing(raw, secrets, pretty ?? ((line) => line));
  return pino({
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    base: undefined,
  }, output);
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
let processLogger: Logger | undefined;

/** Replaces the process-wide root logger (done once at start, from the validated config). */
export function setRootLogger(logger: Logger): void {
  processLogger = logger;
}

/**
 * The logger of one area: a child of the process-wide root, which defaults to LOG_LEVEL on
 * stdout with DISCORD_TOKEN scrubbed until `setRootLogger` is called.
 */
export function getLogger(area: LogArea): Logger {
  const level = process.env.LOG_LEVEL;
  processLogger ??= createLogger({
    level: level !== undefined && LEVELS.includes(level) ? (level as Level) : 'info',
    secrets: [process.env.DISCORD_TOKEN],
  });
  return processLogger.child({ area });
}
