/** Configuration validation, and the logger's promise never to write the token. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import pino from 'pino';
import { ConfigError, parseConfig } from '../src/config.ts';
import { createLogger, REDACTED } from '../src/logger.ts';
import { retrainSettingsOf } from '../src/bot.ts';

const TOKEN = 'MTAxNzY0NjA1NzQ4ODQ3NjE2MA.GxYz12.abcdefghijklmnopqrstuvwxyz0123456789AB';
const CLIENT_ID = '101764605748847616';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

test('an empty environment means console mode with every default', () => {
  const config = parseConfig({});
  assert.equal(config.discordToken, undefined);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.commandCooldownSeconds, 2);
  assert.equal(config.retrainCron, '0 4 * * *');
  assert.equal(config.retrainTimezone, 'UTC');
  assert.match(config.databasePath, /db[/\\]bot\.sqlite$/);
  assert.match(config.modelPath, /\.nmf$/);
  assert.equal(config.discordApiUrl, undefined);
  assert.equal(config.retrainComponents, undefined);
});

test('a full valid environment is read as given; empty values count as absent', () => {
  const config = parseConfig({
    DISCORD_TOKEN: TOKEN, DISCORD_CLIENT_ID: CLIENT_ID, DISCORD_GUILD_ID: '',
    DATABASE_PATH: '/tmp/x.sqlite', MODEL_PATH: '/tmp/m.nmf', LOG_LEVEL: 'debug',
    COMMAND_COOLDOWN_SECONDS: '0', DISCORD_API_URL: 'http://127.0.0.1:9999/api',
    RETRAIN_CRON: '30 3 * * 1', RETRAIN_TIMEZONE: 'Europe/Paris', RETRAIN_COMPONENTS: '64',
  });
  assert.equal(config.discordToken, TOKEN);
  assert.equal(config.discordClientId, CLIENT_ID);
  assert.equal(config.discordGuildId, undefined);
  assert.equal(config.databasePath, '/tmp/x.sqlite');
  assert.equal(config.modelPath, '/tmp/m.nmf');
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.commandCooldownSeconds, 0);
  assert.equal(config.discordApiUrl, 'http://127.0.0.1:9999/api');
  assert.equal(config.retrainCron, '30 3 * * 1');
  assert.equal(config.retrainTimezone, 'Europe/Paris');
  assert.equal(config.retrainComponents, 64);
});

test('every malformed value is reported at once, by name', () => {
  const problems = problemsOf({
    DISCORD_TOKEN: 'has spaces in it',
    DISCORD_GUILD_ID: 'my-guild',
    LOG_LEVEL: 'loud',
    COMMAND_COOLDOWN_SECONDS: '-3',
    DISCORD_API_URL: 'ftp://example.com',
    RETRAIN_CRON: 'every night',
    RETRAIN_TIMEZONE: 'Mars/Olympus_Mons',
    RETRAIN_COMPONENTS: '0',
  });
  const named = ['DISCORD_TOKEN', 'DISCORD_CLIENT_ID', 'DISCORD_GUILD_ID', 'LOG_LEVEL',
    'COMMAND_COOLDOWN_SECONDS', 'DISCORD_API_URL', 'RETRAIN_CRON', 'RETRAIN_TIMEZONE',
    'RETRAIN_COMPONENTS'];
  assert.equal(problems.length, named.length, problems.join('\n'));
  for (const name of named) {
    assert.ok(problems.some((problem) => problem.startsWith(name)), `${name} missing`);
  }
});

test('a token without a client id is refused; the message never shows the token', () => {
  let message = '';
  try {
    parseConfig({ DISCORD_TOKEN: TOKEN });
  } catch (error) {
    message = (error as Error).message;
  }
  assert.match(message, /DISCORD_CLIENT_ID is required/);
  assert.doesNotMatch(message, new RegExp(TOKEN.slice(0, 20)));
  assert.equal(problemsOf({ DISCORD_CLIENT_ID: CLIENT_ID }).length, 0);
  assert.equal(problemsOf({ COMMAND_COOLDOWN_SECONDS: '7200' }).length, 1);
});

test('the logger never writes the token: not as a field, not in a message, not in a stack', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', secrets: [TOKEN], pretty: false,
    destination: { write: (line: string) => { lines.push(line); } } });
  const child = logger.child({ area: 'bot' });

  child.info({ token: TOKEN }, 'field');
  child.info({ config: { discordToken: TOKEN, logLevel: 'info' } }, 'nested');
  child.warn(`message with ${TOKEN} inside`);
  child.error({ err: new Error(`login failed for ${TOKEN}`) }, 'stack');
  child.debug({ headers: { authorization: `Bot ${TOKEN}` } }, 'request');
  child.info({ list: [TOKEN], [TOKEN]: 'as a key' }, 'odd places');

  assert.equal(lines.length, 6);
  for (const line of lines) {
    assert.ok(!line.includes(TOKEN), line);
    assert.ok(!line.includes(TOKEN.slice(-20)), line);
    assert.ok(line.includes(REDACTED), line);
  }
  assert.equal(JSON.parse(lines[1] ?? '{}').config.logLevel, 'info');
});

test('the logger honours the level and tags the area', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', pretty: false,
    destination: { write: (line: string) => { lines.push(line); } } });
  const retrain = logger.child({ area: 'retrain' });
  retrain.info('hidden');
  retrain.warn('shown');
  assert.equal(lines.length, 1);
  assert.deepEqual([JSON.parse(lines[0] ?? '{}').area, JSON.parse(lines[0] ?? '{}').msg],
    ['retrain', 'shown']);
});

test('pretty output (as on a terminal) is scrubbed as well', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', secrets: [TOKEN], pretty: true,
    destination: { write: (line: string) => { lines.push(line); } } });
  logger.child({ area: 'bot' }).info({ detail: `Bot ${TOKEN}` }, `hello ${TOKEN}`);
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]?.includes(TOKEN));
  assert.match(lines[0] ?? '', /INFO/);
  assert.match(lines[0] ?? '', /hello \[redacted\]/);
  assert.throws(() => JSON.parse(lines[0] ?? ''), 'pretty output is not JSON');
});

test('.env.example documents every variable and, copied as is, is a valid console setup', () => {
  const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const values = parseDotenv(text);
  for (const name of ['DISCORD_TOKEN', 'DISCORD_CLIENT_ID', 'DISCORD_GUILD_ID', 'DATABASE_PATH',
    'MODEL_PATH', 'LOG_LEVEL', 'COMMAND_COOLDOWN_SECONDS', 'DISCORD_API_URL', 'RETRAIN_CRON',
    'RETRAIN_TIMEZONE', 'RETRAIN_COMPONENTS']) {
    assert.ok(name in values, `${name} undocumented`);
  }
  const config = parseConfig(values);
  assert.equal(config.discordToken, undefined);
  assert.equal(config.retrainCron, '0 4 * * *');
});

test('RETRAIN_COMPONENTS reaches every retrain the bot runs; unset, the served settings stand', () => {
  const logger = pino({ level: 'silent' });
  const set = retrainSettingsOf(parseConfig({ DATABASE_PATH: '/tmp/x.sqlite',
    RETRAIN_COMPONENTS: '48' }), logger);
  assert.equal(set.databasePath, '/tmp/x.sqlite');
  assert.deepEqual(set.job, { parameters: { components: 48 } });
  assert.equal(retrainSettingsOf(parseConfig({}), logger).job, undefined);
});
