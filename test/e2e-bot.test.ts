/**
 * End-to-end through the real bot: discord.js logs in to the Discord stand-in, and each test
 * sends interactions the way Discord would and checks what a member would see, plus the
 * database behind it. The model is the tiny four-genre fixture (test/support/tinyModel.ts).
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startBot } from '../src/bot.ts';
import { parseConfig } from '../src/config.ts';
import { deployCommands } from '../src/deployCommands.ts';
import type { RetrainControl } from '../src/interactions/retrainControl.ts';
import { Recommender } from '../src/model/recommender.ts';
import { openStorage } from '../src/storage/storage.ts';
import { EPHEMERAL, FakeDiscord, makeUser, messageLimitViolations } from './support/fakeDiscord.ts';
import {
  artistOption,
  rankedNames,
  requestRows,
  startBotUnderTest,
  subcommand,
  TEST_APPLICATION_ID,
  TEST_TOKEN,
  visibleTexts,
} from './support/e2eHarness.ts';
import type { BotUnderTest } from './support/e2eHarness.ts';
import { TINY_CLUSTERS, tinyModel } from './support/tinyModel.ts';

const HIP_HOP = TINY_CLUSTERS[0].artists.map(([name]) => name);

describe('the bot through the Discord stand-in', () => {
  let harness: BotUnderTest;

  before(async () => {
    harness = await startBotUnderTest();
  });

  after(async () => {
    await harness.stop();
  });

  test('logs in and registers every command with its options', () => {
    const { discord } = harness;
    assert.equal(discord.identifyCount, 1);
    assert.ok(harness.bot.client.isReady());
    const commands = discord.registeredCommands ?? [];
    const byName = new Map(commands.map((command) => [command.name, command]));
    assert.deepEqual([...byName.keys()].sort(), [
      'forget-me',
      'help',
      'model',
      'recommend',
      'similar',
      'taste',
    ]);

    const similar = byName.get('similar');
    const artist = similar.options.find((option: any) => option.name === 'artist');
    assert.equal(artist.type, 3);
    assert.equal(artist.required, true);
    assert.equal(artist.autocomplete, true);
    const taste = byName.get('taste');
    assert.deepEqual(taste.options.map((option: any) => option.name).sort(), [
      'add',
      'clear',
      'list',
      'remove',
    ]);
    assert.ok(taste.options.every((option: any) => option.type === 1));
    assert.deepEqual(
      discord.commandRegistrations.map((entry) => entry.scope),
      [discord.defaultGuildId],
    );
  });

  test('/similar artist:Drake answers with an embed of hip-hop neighbours and logs one row', async () => {
    const user = makeUser('similar-drake');
    const exchange = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Drake')],
      user,
    });
    const embed = exchange.message!.embeds[0];
    assert.match(embed.title, /Drake/);
    assert.equal(exchange.ephemeral, false);

    // The tiny model puts the other seven hip-hop artists closest to Drake.
    const names = rankedNames(embed.description);
    assert.equal(names.length, 10);
    assert.deepEqual(
      new Set(names.slice(0, 7)),
      new Set(HIP_HOP.filter((name) => name !== 'Drake')),
    );
    assert.ok(!names.includes('Drake'));

    assert.deepEqual(requestRows(harness, user.id), [{ command: 'similar', query: 'Drake' }]);
    assert.deepEqual(messageLimitViolations(exchange.responses[0].data), []);
  });

  test('/similar with count:3 lists exactly three', async () => {
    const exchange = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('radiohead'), { name: 'count', type: 4, value: 3 }],
    });
    const names = rankedNames(exchange.message!.embeds[0].description);
    assert.equal(names.length, 3);
    const alternative = TINY_CLUSTERS[1].artists.map(([name]) => name);
    assert.ok(
      names.every((name) => alternative.includes(name)),
      names.join(),
    );
  });

  test('autocomplete on "dra" offers Drake among at most 25 choices', async () => {
    const exchange = await harness.discord.sendAutocomplete({
      name: 'similar',
      options: [artistOption('dra')],
      focused: 'artist',
    });
    assert.equal(exchange.callbackType, 8);
    assert.ok(exchange.choices.length >= 1 && exchange.choices.length <= 25);
    assert.equal(exchange.choices[0].name, 'Drake');
  });

  test('autocomplete inside a subcommand (/taste add) works too', async () => {
    const exchange = await harness.discord.sendAutocomplete({
      name: 'taste',
      options: [subcommand('add', [artistOption('metal')])],
      focused: 'artist',
    });
    assert.ok(exchange.choices.length <= 25);
    const empty = await harness.discord.sendAutocomplete({
      name: 'taste',
      options: [subcommand('add', [artistOption('')])],
      focused: 'artist',
    });
    assert.ok(empty.choices.length >= 1, 'an empty query offers popular artists');
  });

  test('/taste add then /taste list shows the artist, and storage holds it', async () => {
    const user = makeUser('taste-member');
    const added = await harness.discord.sendCommand({
      name: 'taste',
      options: [subcommand('add', [artistOption('Drake'), { name: 'weight', type: 4, value: 5 }])],
      user,
    });
    assert.match(added.message!.content, /Added \*\*Drake\*\*/);
    assert.equal(added.ephemeral, true);
    assert.deepEqual(
      harness.storage.listTaste(user.id).map((entry) => [entry.artistName, entry.weight]),
      [['Drake', 5]],
    );

    const listed = await harness.discord.sendCommand({
      name: 'taste',
      options: [subcommand('list')],
      user,
    });
    const text = visibleTexts(listed.message!).join('\n');
    assert.match(text, /Drake/);
  });

  test('/recommend after a few tastes gives picks that exclude them', async () => {
    const user = makeUser('recommend-member');
    const liked = ['Drake', 'Kanye West', 'Rihanna'];
    for (const name of liked) {
      await harness.discord.sendCommand({
        name: 'taste',
        options: [subcommand('add', [artistOption(name)])],
        user,
      });
    }
    const exchange = await harness.discord.sendCommand({ name: 'recommend', user });
    const picks = rankedNames(exchange.message!.embeds[0].description);
    assert.ok(picks.length >= 5, picks.join());
    for (const name of liked) assert.ok(!picks.includes(name), `${name} is already liked`);
    // The taste is all hip-hop: the remaining hip-hop artists come first.
    const remaining = HIP_HOP.filter((name) => !liked.includes(name));
    assert.deepEqual(new Set(picks.slice(0, remaining.length)), new Set(remaining));
  });

  test('/recommend with no taste answers privately', async () => {
    const exchange = await harness.discord.sendCommand({
      name: 'recommend',
      user: makeUser('nobody'),
    });
    assert.equal(exchange.ephemeral, true);
    assert.match(exchange.message!.content, /taste/);
  });

  test('the buttons and the select menu on a /similar reply work', async () => {
    const user = makeUser('clicker');
    const reply = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Metallica')],
      user,
    });
    const message = reply.message!;
    const button = message.components[0].components[0];
    const menu = message.components[1].components[0];
    assert.equal(button.type, 2);
    assert.equal(menu.type, 3);

    // "Add to my taste" adds the artist the reply is about, for the member who clicks.
    const clicked = await harness.discord.clickButton(reply, button.custom_id, { user });
    assert.equal(clicked.ephemeral, true);
    assert.deepEqual(
      harness.storage.listTaste(user.id).map((entry) => entry.artistName),
      ['Metallica'],
    );

    // Picking a result shows that artist's neighbours in place of the same message.
    const pickedOption =
      menu.options.find((option: any) => option.label === 'Slayer') ?? menu.options[0];
    const picked = await harness.discord.selectMenu(reply, menu.custom_id, [pickedOption.value], {
      user,
    });
    assert.equal(picked.callbackType, 7);
    assert.equal(picked.message!.id, message.id);
    assert.match(reply.message!.embeds[0].title, new RegExp(pickedOption.label));
    const metal = TINY_CLUSTERS[2].artists.map(([name]) => name);
    const names = rankedNames(reply.message!.embeds[0].description);
    assert.ok(
      names.slice(0, 5).every((name) => metal.includes(name)),
      names.join(),
    );
  });

  test("/forget-me asks, then deletes the member's tastes and requests", async () => {
    const user = makeUser('forgetful');
    const other = makeUser('bystander');
    await harness.discord.sendCommand({
      name: 'taste',
      options: [subcommand('add', [artistOption('Muse')])],
      user,
    });
    await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Muse')], user });
    await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Muse')],
      user: other,
    });
    assert.equal(harness.storage.listTaste(user.id).length, 1);
    assert.ok(requestRows(harness, user.id).length >= 1);

    const asked = await harness.discord.sendCommand({ name: 'forget-me', user });
    assert.equal(asked.ephemeral, true);
    const confirm = asked.message!.components[0].components.find((c: any) =>
      c.custom_id.includes('confirm'),
    );

    // Someone else cannot press it.
    const intruder = await harness.discord.clickButton(asked, confirm.custom_id, { user: other });
    assert.match(intruder.message!.content, /Only the member/);
    assert.equal(harness.storage.listTaste(user.id).length, 1);

    const done = await harness.discord.clickButton(asked, confirm.custom_id, { user });
    assert.match(done.message!.content, /deleted 1 taste entry/);
    assert.deepEqual(harness.storage.listTaste(user.id), []);
    assert.deepEqual(requestRows(harness, user.id), []);
    assert.equal(requestRows(harness, other.id).length, 1, 'the bystander keeps their rows');
  });

  test('/model info answers with the serving model', async () => {
    const exchange = await harness.discord.sendCommand({
      name: 'model',
      options: [subcommand('info')],
    });
    const text = visibleTexts(exchange.message!).join('\n');
    assert.match(text, new RegExp(String(harness.recommender.artistCount)));
  });

  test('an unknown artist gets a private "did you mean", and picking the suggestion works', async () => {
    const user = makeUser('typo');
    const exchange = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Drakke')],
      user,
    });
    assert.equal(exchange.message!.flags & EPHEMERAL, EPHEMERAL);
    assert.match(exchange.message!.content, /Did you mean .*Drake/);
    assert.deepEqual(requestRows(harness, user.id), [{ command: 'similar', query: 'Drakke' }]);

    const menu = exchange.message!.components[0].components[0];
    const drake = menu.options.find((option: any) => option.label === 'Drake');
    const picked = await harness.discord.selectMenu(exchange, menu.custom_id, [drake.value], {
      user,
    });
    assert.match(picked.message!.embeds[0].title, /Drake/);
  });

  test('a taste named @everyone is echoed with allowed_mentions that parse nothing', async () => {
    const user = makeUser('pinger');
    const exchange = await harness.discord.sendCommand({
      name: 'taste',
      options: [subcommand('add', [artistOption('@everyone')])],
      user,
    });
    const message = exchange.message!;
    assert.deepEqual(message.allowedMentions?.parse, []);
    assert.match(message.content, /everyone/);
    assert.doesNotMatch(message.content, /@everyone/, 'the text is defused as well');

    const listed = await harness.discord.sendCommand({
      name: 'taste',
      options: [subcommand('list')],
      user,
    });
    assert.deepEqual(listed.message!.allowedMentions?.parse, []);
  });

  test('a handler that throws answers with an error id, and the bot goes on', async () => {
    class BrokenRecommender extends Recommender {
      override similarArtists(): never {
        throw new Error('similarity index exploded');
      }
    }
    const working = harness.bot.servingModel.swap(new BrokenRecommender(tinyModel()));
    try {
      const failed = await harness.discord.sendCommand({
        name: 'similar',
        options: [artistOption('Drake')],
      });
      assert.equal(failed.ephemeral, true);
      const errorId = /`(E[0-9A-F]{8})`/.exec(failed.message!.content)?.[1];
      assert.ok(errorId, failed.message!.content);
      const logged = harness.logLines.find((line) => line.errorId === errorId);
      assert.equal(logged?.err?.message, 'similarity index exploded');
      assert.doesNotMatch(
        failed.message!.content,
        /exploded|at .*\.ts/,
        'no stack trace to members',
      );

      const next = await harness.discord.sendCommand({
        name: 'model',
        options: [subcommand('info')],
      });
      assert.equal(next.callbackType, 4);
    } finally {
      harness.bot.servingModel.swap(working);
    }
    const healed = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Drake')],
    });
    assert.match(healed.message!.embeds[0].title, /Drake/);
  });

  test('commands work in a DM', async () => {
    const user = makeUser('dm-member');
    const exchange = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Björk')],
      user,
      guildId: null,
    });
    assert.equal(exchange.message!.guildId, null);
    assert.match(exchange.message!.embeds[0].title, /Björk/);
    const rows = harness.storage.database
      .prepare('SELECT guild_id FROM requests WHERE user_id = ?')
      .all(user.id) as { guild_id: string | null }[];
    assert.deepEqual(rows, [{ guild_id: null }]);

    const added = await harness.discord.sendCommand({
      name: 'taste',
      options: [subcommand('add', [artistOption('Björk')])],
      user,
      guildId: null,
    });
    assert.match(added.message!.content, /Added/);
  });

  test('after the gateway drops the connection the client resumes and answers', async () => {
    const { discord } = harness;
    const resumes = discord.resumeCount;
    discord.dropConnection(4000);
    const whileAway = discord.sendCommand({ name: 'similar', options: [artistOption('Coldplay')] });
    await discord.waitForResume(resumes + 1);
    assert.match((await whileAway).message!.embeds[0].title, /Coldplay/);

    const afterResume = await discord.sendCommand({
      name: 'similar',
      options: [artistOption('Muse')],
    });
    assert.match(afterResume.message!.embeds[0].title, /Muse/);
    assert.equal(discord.identifyCount, 1, 'resumed the session rather than identifying again');
  });

  test('an unknown command and a missing option get a clear private answer', async () => {
    const unknown = await harness.discord.sendCommand({ name: 'no-such-command' });
    assert.equal(unknown.ephemeral, true);
    assert.match(unknown.message!.content, /no-such-command/);

    const missing = await harness.discord.sendCommand({ name: 'similar', options: [] });
    assert.equal(missing.ephemeral, true);
    assert.match(missing.message!.content, /artist/);
  });

  test('nothing the bot sent broke a limit or hit an unknown route', () => {
    assert.deepEqual(harness.discord.violations, []);
    assert.deepEqual(harness.discord.unknownRoutes, []);
  });
});

describe('the bot refused by Discord', () => {
  test('a wrong token makes startBot reject with a clear error, leaving nothing open', async () => {
    const discord = await FakeDiscord.start({
      token: TEST_TOKEN,
      applicationId: TEST_APPLICATION_ID,
    });
    const storage = openStorage(':memory:');
    try {
      const config = parseConfig({
        DISCORD_TOKEN: 'not-the-right-token',
        DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
        DISCORD_API_URL: discord.restUrl,
        DATABASE_PATH: ':memory:',
        LOG_LEVEL: 'silent',
      });
      await assert.rejects(
        startBot({
          config,
          recommender: new Recommender(tinyModel()),
          storage,
          logger: pino({ level: 'silent' }),
        }),
        /token/i,
      );
      assert.equal(discord.identifyCount, 0);
      assert.ok(storage.database.open, 'a storage the caller passed in stays open');
    } finally {
      storage.close();
      await discord.stop();
    }
  });
});

describe('the bot with a retrain control', () => {
  let harness: BotUnderTest;
  const requestedBy: string[] = [];
  let running = false;
  const retrain: RetrainControl = {
    status: () => ({ running }),
    trigger(name) {
      if (running) return 'already-running';
      running = true;
      requestedBy.push(name);
      return 'started';
    },
  };

  before(async () => {
    harness = await startBotUnderTest({ retrain });
  });

  after(async () => {
    await harness.stop();
  });

  test('/model retrain needs Manage Server, starts once, then says it is running', async () => {
    const { discord } = harness;
    const retrainOption = [subcommand('retrain')];
    const refused = await discord.sendCommand({
      name: 'model',
      options: retrainOption,
      user: makeUser('plain-member'),
      memberPermissions: '0',
    });
    assert.equal(refused.ephemeral, true);
    assert.match(refused.message!.content, /Manage Server/);
    const inDm = await discord.sendCommand({
      name: 'model',
      options: retrainOption,
      guildId: null,
    });
    assert.match(inDm.message!.content, /Manage Server/);
    assert.deepEqual(requestedBy, []);

    const admin = makeUser('admin');
    const started = await discord.sendCommand({
      name: 'model',
      options: retrainOption,
      user: admin,
    });
    assert.match(started.message!.content, /Retraining started/);
    assert.deepEqual(requestedBy, ['admin']);
    const again = await discord.sendCommand({ name: 'model', options: retrainOption, user: admin });
    assert.match(again.message!.content, /already running/);
    assert.equal(again.ephemeral, true);

    const info = await discord.sendCommand({ name: 'model', options: [subcommand('info')] });
    assert.match(visibleTexts(info.message!).join('\n'), /Running now/);
  });

  test('a model swapped in mid-session serves the next interaction, without a restart', async () => {
    const { discord, bot } = harness;
    const before = await discord.sendCommand({ name: 'similar', options: [artistOption('Drake')] });
    assert.doesNotMatch(before.message!.embeds[0].footer.text, /2030-01-02/);

    const next = tinyModel();
    next.meta.createdAt = '2030-01-02T03:04:05.000Z';
    bot.servingModel.swap(new Recommender(next));
    const after = await discord.sendCommand({ name: 'similar', options: [artistOption('Drake')] });
    assert.match(after.message!.embeds[0].footer.text, /trained 2030-01-02/);
    assert.equal(discord.identifyCount, 1);
  });

  test('deployCommands without a guild registers globally', async () => {
    const config = parseConfig({
      DISCORD_TOKEN: TEST_TOKEN,
      DISCORD_CLIENT_ID: TEST_APPLICATION_ID,
      DISCORD_API_URL: harness.discord.restUrl,
    });
    const result = await deployCommands(config);
    assert.equal(result.scope, 'global');
    const last = harness.discord.commandRegistrations.at(-1)!;
    assert.equal(last.scope, 'global');
    assert.equal(last.body.length, result.count);
  });
});

describe('the bot with a cooldown', () => {
  let harness: BotUnderTest;

  before(async () => {
    harness = await startBotUnderTest({ cooldownSeconds: 30 });
  });

  after(async () => {
    await harness.stop();
  });

  test('a second command within the cooldown is refused privately; others are not held up', async () => {
    const user = makeUser('hasty');
    const first = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Drake')],
      user,
    });
    assert.equal(first.ephemeral, false);

    const second = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Drake')],
      user,
    });
    assert.equal(second.message!.flags & EPHEMERAL, EPHEMERAL);
    assert.match(second.message!.content, /try again in \d+ seconds/);
    assert.equal(requestRows(harness, user.id).length, 1, 'the refused command logs nothing');

    // Autocomplete and other members are not held up.
    const choices = await harness.discord.sendAutocomplete({
      name: 'similar',
      options: [artistOption('dra')],
      focused: 'artist',
      user,
    });
    assert.ok(choices.choices.length > 0);
    const other = await harness.discord.sendCommand({
      name: 'similar',
      options: [artistOption('Drake')],
      user: makeUser('patient'),
    });
    assert.equal(other.ephemeral, false);
  });
});
