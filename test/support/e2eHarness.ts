/**
 * The real bot logged in to the Discord stand-in, for end-to-end tests and the load benchmark:
 * `startBotUnderTest()` starts a `FakeDiscord`, builds a config pointing at it, starts the bot
 * with an in-memory database and the tiny test model (or the given recommender), registers the
 * commands, and captures the bot's log lines so a test can look an error id up.
 *
 * Also here: a seeded generator of hostile option values for the fuzz test.
 */

import pino from 'pino';
import type { Logger } from 'pino';
import { startBot } from '../../src/bot.ts';
import type { RunningBot } from '../../src/bot.ts';
import { parseConfig } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';
import { deployCommands } from '../../src/deployCommands.ts';
import type { RetrainControl } from '../../src/interactions/retrainControl.ts';
import { Recommender } from '../../src/model/recommender.ts';
import { mulberry32 } from '../../src/model/random.ts';
import { openStorage } from '../../src/storage/storage.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { FakeDiscord } from './fakeDiscord.ts';
import type { CommandOption, RecordedMessage } from './fakeDiscord.ts';
import { tinyModel } from './tinyModel.ts';

/** The bot's token in the stand-in. */
export const TEST_TOKEN = 'e2e-test-token.not-a-real-one';
/** The bot's application id in the stand-in. */
export const TEST_APPLICATION_ID = '1300000000000000001';

/** Options of `startBotUnderTest`. */
export interface BotUnderTestOptions {
  /** Default 0 (no cooldown). */
  cooldownSeconds?: number;
  /** Default: `new Recommender(tinyModel())`. */
  recommender?: Recommender;
  /** Default: `openStorage(':memory:')`, closed by `stop()`. */
  storage?: Storage;
  /** Register the commands with `deployCommands` (default true), to the stand-in's guild. */
  registerCommands?: boolean;
  retrain?: RetrainControl;
  /** Level of the captured log (default 'debug'; the load benchmark uses 'warn'). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

/** A running bot, its stand-in Discord and what it logged. */
export interface BotUnderTest {
  discord: FakeDiscord;
  bot: RunningBot;
  config: Config;
  storage: Storage;
  recommender: Recommender;
  /** Every JSON log line the bot wrote, parsed. */
  logLines: Record<string, any>[];
  /** Stops the bot, the stand-in and (if it opened it) the database. */
  stop(): Promise<void>;
}

/**
 * Starts the stand-in and the real bot, waits for the login and (by default) registers the
 * command list with the project's `deployCommands`. About 0.2 s on a quiet machine.
 */
export async function startBotUnderTest(options: BotUnderTestOptions = {}): Promise<BotUnderTest> {
  const discord = await FakeDiscord.start({
    token: TEST_TOKEN,
    applicationId: TEST_APPLICATION_ID,
  });
  const config = parseConfig({
    DISCORD_TOKEN: TEST_TOKEN,
    DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
    DISCORD_GUILD_ID: discord.defaultGuildId ?? undefined,
    DISCORD_API_URL: discord.restUrl,
    DATABASE_PATH: ':memory:',
    MODEL_PATH: 'unused-by-e2e.nmf',
    LOG_LEVEL: 'silent',
    COMMAND_COOLDOWN_SECONDS: String(options.cooldownSeconds ?? 0),
  });

  const logLines: Record<string, any>[] = [];
  const logger: Logger = pino(
    { level: options.logLevel ?? 'debug' },
    {
      write(line: string) {
        logLines.push(JSON.parse(line));
      },
    },
  );
  const recommender = options.recommender ?? new Recommender(tinyModel());
  const ownsStorage = options.storage === undefined;
  const storage = options.storage ?? openStorage(':memory:');

  let bot: RunningBot | undefined;
  try {
    const retrain = options.retrain === undefined ? {} : { retrain: options.retrain };
    bot = await startBot({ config, recommender, storage, logger, ...retrain });
    await discord.waitForIdentify();
    if (options.registerCommands !== false) await deployCommands(config);
  } catch (error) {
    await bot?.stop();
    await discord.stop();
    if (ownsStorage) storage.close();
    throw error;
  }

  const running = bot;
  return {
    discord,
    bot: running,
    config,
    storage,
    recommender,
    logLines,
    async stop() {
      await running.stop();
      await discord.stop();
      if (ownsStorage) storage.close();
    },
  };
}

// --- reading what the bot answered -----------------------------------------------------------

/** A string option named `artist`. */
export const artistOption = (value: string): CommandOption => ({ name: 'artist', type: 3, value });
/** A subcommand option holding `options`. */
export const subcommand = (name: string, options: CommandOption[] = []): CommandOption => ({
  name,
  type: 1,
  options,
});

/** Artist names of a ranked list embed, in order (`**1.** **Name** ...` or a linked name). */
export function rankedNames(description: string): string[] {
  const names: string[] = [];
  for (const line of description.split('\n')) {
    const match = /^\*\*\d+\.\*\* \[?\*\*(.+?)\*\*/.exec(line);
    if (match) names.push(match[1].replace(/\\(.)/g, '$1').replace(/\u200d/g, ''));
  }
  return names;
}

/** Every text a member sees in a message: content, embed titles, descriptions, fields, footers. */
export function visibleTexts(message: RecordedMessage): string[] {
  const texts = [message.content];
  for (const embed of message.embeds) {
    texts.push(embed.title ?? '', embed.description ?? '', embed.footer?.text ?? '');
    for (const field of embed.fields ?? []) texts.push(field.name, field.value);
  }
  return texts;
}

/** The member's request-log rows, oldest first. */
export function requestRows(
  harness: { storage: Storage },
  userId: string,
): { command: string; query: string }[] {
  return harness.storage.database
    .prepare('SELECT command, query FROM requests WHERE user_id = ? ORDER BY rowid')
    .all(userId) as { command: string; query: string }[];
}

// --- hostile option values -----------------------------------------------------------------

/** A uniform float in [0, 1) from a seeded generator. */
export type RandomSource = () => number;

/** mulberry32 from `seed` as given: the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): RandomSource {
  return mulberry32(seed);
}

const FRAGMENTS = [
  '@everyone',
  '@here',
  '<@123456789012345678>',
  '<@&123456789012345678>',
  '<#123456789012345678>',
  '**bold**',
  '__under__',
  '~~strike~~',
  '`code`',
  '```js\nx\n```',
  '||spoiler||',
  '> quote',
  '# heading',
  '[link](https://example.com)',
  '<https://example.com>',
  '\\',
  '*',
  '_',
  '|',
  "'; DROP TABLE tastes; --",
  '" OR 1=1 --',
  '%',
  '%%',
  '\0',
  '\u0007',
  '\r\n',
  '\t',
  '\u200b',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u202e',
  'é',
  'e\u0301',
  '東方神起',
  '宇多田ヒカル',
  '🎵',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '\ud83c',
  '\udfb5',
  'Ｄｒａｋｅ',
  'DRAKE',
  'drake',
  'Drake',
  'dra',
  'Björk',
  'Sigur Rós',
  'Motörhead',
  'The',
  'the national',
  'AC/DC',
  'Beyoncé',
  '${x}',
  '{{x}}',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  'true',
  '[]',
  '{}',
  ':',
  '::',
  'similar:add:1',
  'taste:remove:x',
  ' ',
  '',
];

const LONG_ALPHABETS = ['a', 'é', '東', '🎵', '\u200b', '*', '@', '\\'];

/**
 * One hostile string: a mix of fragments, random code points and, sometimes, a very long run.
 * Lengths range from 0 to about 6,000 UTF-16 units. O(length).
 */
export function hostileString(random: RandomSource): string {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const shape = random();

  if (shape < 0.08) return '';
  if (shape < 0.18) {
    const run = pick(LONG_ALPHABETS);
    return run.repeat(1 + Math.floor(random() * (6000 / run.length)));
  }
  if (shape < 0.3) {
    let text = '';
    const length = Math.floor(random() * 120);
    for (let i = 0; i < length; i++) text += String.fromCodePoint(randomCodePoint(random));
    return text;
  }

  const parts = 1 + Math.floor(random() * 6);
  let text = '';
  for (let i = 0; i < parts; i++) text += pick(FRAGMENTS) + (random() < 0.3 ? ' ' : '');
  return text;
}

/** A code point from all planes, weighted towards the awkward ones. O(1). */
function randomCodePoint(random: RandomSource): number {
  const zone = random();
  if (zone < 0.3) return 0x20 + Math.floor(random() * 0x5f);
  if (zone < 0.4) return Math.floor(random() * 0x20);
  if (zone < 0.5) return 0x200b + Math.floor(random() * 5);
  if (zone < 0.7) return 0x3000 + Math.floor(random() * 0x6000);
  if (zone < 0.85) return 0x1f300 + Math.floor(random() * 0x300);
  // Anything, including lone surrogates, which a JSON body carries as escapes.
  return Math.floor(random() * 0x10ffff);
}
