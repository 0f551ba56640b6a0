/**
 * The bot's configuration: environment variables (after a `.env` file, if any) checked once at
 * start. Every missing or malformed value is reported in one message, so an operator fixes them
 * all in one go. `.env.example` documents each variable.
 */
import { config as loadDotenv } from 'dotenv';
import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { servingModelPath } from './model/modelPaths.ts';
import { DEFAULT_DATABASE_PATH } from './storage/storage.ts';

/** The validated configuration. */
export interface Config {
  /** Absent: the bot runs as a console on stdin/stdout instead of connecting to Discord. */
  discordToken?: string;
  /** The application id; required with a token. */
  discordClientId?: string;
  /** A development guild: commands are registered there (instantly) instead of globally. */
  discordGuildId?: string;
  databasePath: string;
  modelPath: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Seconds between two commands of one member; 0 disables. */
  commandCooldownSeconds: number;
  /** REST base URL (default Discord's); tests point it at a local fake Discord. */
  discordApiUrl?: string;
  retrainCron: string;
  retrainTimezone: string;
  /** Components of the nightly retrain; absent: the served settings' (DEFAULT_PARAMETERS). */
  retrainComponents?: number;
}

/** Raised with every problem found; `message` lists them one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    const list = problems.map((problem) => `  - ${problem}`).join('\n');
    super(`Configuration problems (see .env.example):\n${list}`);
    this.problems = problems;
  }
}

const SNOWFLAKE = /^\d{17,20}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

// Empty strings count as absent: `DISCORD_TOKEN=` in a .env file means "no token".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional());

const schema = z.object({
  DISCORD_TOKEN: optional(z.string().regex(/^\S+$/, 'must not contain spaces')),
  DISCORD_CLIENT_ID: optional(z.string().regex(SNOWFLAKE, 'must be a Discord id (17-20 digits)')),
  DISCORD_GUILD_ID: optional(z.string().regex(SNOWFLAKE, 'must be a Discord id (17-20 digits)')),
  DATABASE_PATH: optional(z.string()),
  MODEL_PATH: optional(z.string()),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  COMMAND_COOLDOWN_SECONDS: optional(z.string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds, 0 or more')
    .transform(Number)
    .refine((seconds) => seconds <= 3600, 'must be at most 3600')),
  DISCORD_API_URL: optional(z.string().refine(isHttpUrl, 'must be an http(s) URL')),
  RETRAIN_CRON: optional(z.string().refine((cron) => isValidCron(cron),
    'must be a cron expression such as "0 4 * * *"')),
  RETRAIN_TIMEZONE: optional(z.string().refine(isTimeZone,
    'must be an IANA time zone such as UTC or Europe/Paris')),
  RETRAIN_COMPONENTS: optional(z.string()
    .regex(/^\d+$/, 'must be a whole number of components')
    .transform(Number)
    .refine((components) => components >= 1 && components <= 1024, 'must be from 1 to 1024')),
});

/**
 * Validates `env` (already holding any `.env` values). Throws `ConfigError` listing every bad
 * or missing value; never prints the token.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')} ${issue.message}`);
    }
  }

  // Cross-field rules are checked even when single values failed, so all problems show at once.
  const present = (name: string) => (env[name] ?? '').trim() !== '';
  if (present('DISCORD_TOKEN') && !present('DISCORD_CLIENT_ID')) {
    problems.push('DISCORD_CLIENT_ID is required when DISCORD_TOKEN is set ' +
      "(the application id from Discord's developer portal)");
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const values = parsed.data;
  return {
    ...(values.DISCORD_TOKEN === undefined ? {} : { discordToken: values.DISCORD_TOKEN }),
    ...(values.DISCORD_CLIENT_ID === undefined ? {}
      : { discordClientId: values.DISCORD_CLIENT_ID }),
    ...(values.DISCORD_GUILD_ID === undefined ? {} : { discordGuildId: values.DISCORD_GUILD_ID }),
    databasePath: values.DATABASE_PATH ?? DEFAULT_DATABASE_PATH,
    modelPath: values.MODEL_PATH ?? servingModelPath(env),
    logLevel: values.LOG_LEVEL ?? 'info',
    commandCooldownSeconds: values.COMMAND_COOLDOWN_SECONDS ?? 2,
    ...(values.DISCORD_API_URL === undefined ? {} : { discordApiUrl: values.DISCORD_API_URL }),
    retrainCron: values.RETRAIN_CRON ?? '0 4 * * *',
    retrainTimezone: values.RETRAIN_TIMEZONE ?? 'UTC',
    ...(values.RETRAIN_COMPONENTS === undefined ? {}
      : { retrainComponents: values.RETRAIN_COMPONENTS }),
  };
}

/**
 * Reads `.env` (from `envFile`, default `./.env`; a missing file is fine) into `process.env`
 * without overriding variables already set, then validates. Throws `ConfigError`.
 */
export function loadConfig(options: { envFile?: string } = {}): Config {
  loadDotenv({ path: options.envFile ?? '.env', quiet: true });
  return parseConfig(process.env);
}
