/**
 * `npm run deploy-commands`: registers the slash commands with Discord. To DISCORD_GUILD_ID when
 * set (instant, for development), else globally (may take up to an hour to show everywhere).
 * Replaces the whole command set, so removed commands disappear. Honours DISCORD_API_URL.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REST, Routes } from 'discord.js';
import { commandDefinitions } from './commands/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';
import { createLogger, setRootLogger, getLogger } from './logger.ts';

/** Where the commands went and how many. */
export interface DeployResult {
  scope: 'guild' | 'global';
  count: number;
}

/**
 * PUTs every command definition to the guild or global commands route of the application.
 * One HTTP request. Rejects with Discord's error (bad token, unknown application...).
 */
export async function deployCommands(config: Config): Promise<DeployResult> {
  if (config.discordToken === undefined || config.discordClientId === undefined) {
    throw new ConfigError(['DISCORD_TOKEN and DISCORD_CLIENT_ID are needed to register commands']);
  }
  const rest = new REST(config.discordApiUrl === undefined ? {} : { api: config.discordApiUrl })
    .setToken(config.discordToken);
  const body = commandDefinitions();
  const route = config.discordGuildId === undefined
    ? Routes.applicationCommands(config.discordClientId)
    : Routes.applicationGuildCommands(config.discordClientId, config.discordGuildId);
  await rest.put(route, { body });
  return { scope: config.discordGuildId === undefined ? 'global' : 'guild', count: body.length };
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
    if (config.discordToken === undefined) {
      throw new ConfigError(['DISCORD_TOKEN is required to register commands']);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  setRootLogger(createLogger({ level: config.logLevel, secrets: [config.discordToken] }));
  const logger = getLogger('bot');
  try {
    const result = await deployCommands(config);
    logger.info({ ...result, guildId: config.discordGuildId }, 'slash commands registered');
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'registering slash commands failed');
    return 1;
  }
}

const isEntryPoint = process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntryPoint) {
  process.exitCode = await main();
}
