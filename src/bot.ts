/**
 * The bot process. `startBot` connects the commands to Discord; run as the entry point
 * (`npm start`) it validates the configuration, loads the serving model and the database, then
 * serves Discord when DISCORD_TOKEN is set, or a console on stdin/stdout when it is not.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Events } from 'discord.js';
import type { Client } from 'discord.js';
import type { Logger } from 'pino';
import { COMMANDS } from './commands/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';
import { Dispatcher } from './interactions/dispatcher.ts';
import type { RetrainControl } from './interactions/retrainControl.ts';
import { ServingModel } from './interactions/servingModel.ts';
import { createLogger, getLogger, setRootLogger } from './logger.ts';
import { Recommender } from './model/recommender.ts';
import { prepareServingModel } from './retrain/prepare.ts';
import type { RetrainSettings } from './retrain/retrainRun.ts';
import { createRetrainer } from './retrain/retrainer.ts';
import type { Retrainer } from './retrain/retrainer.ts';
import { RetrainScheduleError } from './retrain/schedule.ts';
import { openStorage } from './storage/storage.ts';
import type { Storage } from './storage/storage.ts';
import { runConsole } from './transports/console.ts';
import { attachDispatcher, createDiscordClient } from './transports/discord.ts';

/** What startBot needs; only `config` is required. */
export interface StartOptions {
  config: Config;
  /** Default: loaded from `config.modelPath`. Ignored when `servingModel` is given. */
  recommender?: Recommender;
  /** Give one to share it with a retrainer created beforehand. */
  servingModel?: ServingModel;
  /** Default: opened at `config.databasePath` (and then closed by `stop`). */
  storage?: Storage;
  retrain?: RetrainControl;
  logger?: Logger;
}

/** A connected bot. */
export interface RunningBot {
  client: Client;
  servingModel: ServingModel;
  storage: Storage;
  dispatcher: Dispatcher;
  /** Disconnects from Discord and closes the database if startBot opened it. Idempotent. */
  stop(): Promise<void>;
}

/** The dispatcher over every command, for any transport. */
export function createDispatcher(options: { config: Config; servingModel: ServingModel;
  storage: Storage; retrain?: RetrainControl; logger: Logger }): Dispatcher {
  return new Dispatcher({
    commands: COMMANDS,
    servingModel: options.servingModel,
    storage: options.storage,
    ...(options.retrain === undefined ? {} : { retrain: options.retrain }),
    logger: options.logger,
    cooldownSeconds: options.config.commandCooldownSeconds,
  });
}

/**
 * What every retrain of this bot runs with, at start-up and on schedule: its database, its
 * logger and the configured overrides of the served training settings (RETRAIN_COMPONENTS).
 */
export function retrainSettingsOf(config: Config, logger: RetrainSettings['logger'])
  : RetrainSettings {
  return {
    databasePath: config.databasePath,
    logger,
    ...(config.retrainComponents === undefined ? {}
      : { job: { parameters: { components: config.retrainComponents } } }),
  };
}

/**
 * Connects to Discord (at `config.discordApiUrl` when set: REST there, and the gateway address
 * that server's GET /gateway/bot returns) and answers interactions until `stop()`. Rejects when
 * the token is missing or the login fails, after releasing what it opened.
 */
export async function startBot(options: StartOptions): Promise<RunningBot> {
  const { config } = options;
  const logger = options.logger ?? getLogger('bot');
  if (config.discordToken === undefined) throw new Error('startBot needs config.discordToken');

  const servingModel = options.servingModel ??
    new ServingModel(options.recommender ?? Recommender.load(config.modelPath));
  const ownsStorage = options.storage === undefined;
  const storage = options.storage ?? openStorage(config.databasePath);
  const dispatcher = createDispatcher({
    config, servingModel, storage, logger: logger.child({ area: 'commands' }),
    ...(options.retrain === undefined ? {} : { retrain: options.retrain }),
  });

  const client = createDiscordClient(config.discordApiUrl);
  attachDispatcher(client, dispatcher, logger);
  client.once(Events.ClientReady, (ready) => {
    logger.info({ user: ready.user.tag, guilds: ready.guilds.cache.size,
      artists: servingModel.current.artistCount }, 'connected to Discord');
  });
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await client.destroy();
    if (ownsStorage) storage.close();
    logger.info('bot stopped');
  };

  try {
    await client.login(config.discordToken);
  } catch (error) {
    await stop();
    throw error;
  }
  return { client, servingModel, storage, dispatcher, stop };
}

function loadModel(path: string): Recommender {
  try {
    return Recommender.load(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(`Cannot load the model at ${path}: ${reason}\n` +
      'Train one with `npm run cli -- train`, or set MODEL_PATH to an existing .nmf file.');
  }
}

function openDatabase(path: string): Storage {
  try {
    return openStorage(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(`Cannot open the database at ${path}: ${reason}`);
  }
}

/** A start-up failure the operator can fix: printed as its message, exit code 1. */
class StartupError extends Error {
  override name = 'StartupError';
}

/** `npm start`: Discord with a token, else the console. Resolves to the exit code. */
export async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }

  // In console mode stdout is the conversation, so the log goes to stderr.
  const consoleMode = config.discordToken === undefined;
  setRootLogger(createLogger({ level: config.logLevel, secrets: [config.discordToken],
    destination: consoleMode ? 2 : 1 }));
  const logger = getLogger('bot');

  let servingModel: ServingModel;
  let storage: Storage;
  let retrain: Retrainer;
  let modelPath = config.modelPath;
  try {
    storage = openDatabase(config.databasePath);
    // MODEL_PATH pins a model; otherwise the newest retrained one, one trained now, or the default.
    const retrainSettings = retrainSettingsOf(config, getLogger('retrain'));
    if (process.env.MODEL_PATH?.trim()) {
      servingModel = new ServingModel(loadModel(modelPath));
    } else {
      const prepared = await prepareServingModel(retrainSettings).catch((error: Error) => {
        throw new StartupError(`Cannot prepare a model to serve: ${error.message}`);
      });
      servingModel = new ServingModel(prepared.recommender);
      modelPath = prepared.path;
    }
    retrain = createRetrainer({ ...retrainSettings, servingModel, cron: config.retrainCron,
      timezone: config.retrainTimezone });
  } catch (error) {
    if (!(error instanceof StartupError) && !(error instanceof RetrainScheduleError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  logger.info({ model: modelPath, artists: servingModel.current.artistCount,
    database: config.databasePath, nextRetrain: retrain.status().nextRun },
  'model and database loaded');

  if (consoleMode) {
    // One local operator types here: a cooldown would only get in the way of piped commands.
    const dispatcher = createDispatcher({ config: { ...config, commandCooldownSeconds: 0 },
      servingModel, storage, retrain, logger: getLogger('commands') });
    // A signal ends the console like EOF (on a terminal, Ctrl-C reaches readline instead).
    const stopConsole = new AbortController();
    const onSignal = () => stopConsole.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runConsole({ dispatcher, input: process.stdin, output: process.stdout,
        signal: stopConsole.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      retrain.stop();
      storage.close();
    }
    return 0;
  }

  let bot: RunningBot;
  try {
    bot = await startBot({ config, servingModel, storage, logger, retrain });
  } catch (error) {
    logger.error({ err: error }, 'could not connect to Discord');
    retrain.stop();
    storage.close();
    return 1;
  }
  await new Promise<void>((done) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      void bot.stop().finally(done);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  retrain.stop();
  storage.close();
  return 0;
}

const isEntryPoint = process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntryPoint) {
  process.exitCode = await main();
}
