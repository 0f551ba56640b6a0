/**
 * End-to-end through the real bot: discord.js logs in to the Discord stand-in, and each test
 * sends interactions the way Discord would and checks what a member would see, plus the
 * database behind it. The model is the tiny four-genre fixture (test/support/tinyModel.ts).
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender } from '../src/model/recommender.ts';
import type { ModelArtist } from '../src/model/types.ts';
import { lookupKey } from '../src/model/lookupKey.ts';
import { EPHEMERAL, makeUser, messageLimitViolations } from './support/fakeDiscord.ts';
import type { CommandOption, FakeUser, InteractionExchange, RecordedMessage }
  from './support/fakeDiscord.ts';
import { hostileString, seededRandom, startBotUnderTest } from './support/e2eHarness.ts';
import type { BotUnderTest } from './support/e2eHarness.ts';
import { TINY_CLUSTERS, tinyModel } from './support/tinyModel.ts';

const HIP_HOP = TINY_CLUSTERS[0].artists.map(([name]) => name);

const artistOption = (value: string): CommandOption => ({ name: 'artist', type: 3, value });
const subcommand = (name: string, options: CommandOption[] = []): CommandOption =>
  ({ name, type: 1, options });

/** Artist names of a ranked list embed, in order (`**1.** **Name** ...` or a linked name). */
function rankedNames(description: string): string[] {
  const names: string[] = [];
  for (const line of description.split('\n')) {
    const match = /^\*\*\d+\.\*\* \[?\*\*(.+?)\*\*/.exec(line);
    if (match) names.push(match[1].replace(/\\(.)/g, '$1').replace(/\u200d/g, ''));
  }
  return names;
}

/** Every text a member sees in a message: content, embed titles, descriptions, fields, footers. */
function visibleTexts(message: RecordedMessage): string[] {
  const texts = [message.content];
  for (const embed of message.embeds) {
    texts.push(embed.title ?? '', embed.description ?? '', embed.footer?.text ?? '');
    for (const field of embed.fields ?? []) texts.push(field.name, field.value);
  }
  return texts;
}

function requestRows(harness: BotUnderTest, userId: string): { command: string; query: string }[] {
  return harness.storage.database
    .prepare('SELECT command, query FROM requests WHERE user_id = ? ORDER BY rowid')
    .all(userId) as { command: string; query: string }[];
}

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
    assert.deepEqual([...byName.keys()].sort(), ['forget-me', 'model', 'recommend', 'similar', 'taste']);

    const similar = byName.get('similar');
    const artist = similar.options.find((option: any) => option.name === 'artist');
    assert.equal(artist.type, 3);
    assert.equal(artist.required, true);
    assert.equal(artist.autocomplete, true);
    const taste = byName.get('taste');
    assert.deepEqual(taste.options.map((option: any) => option.name).sort(), ['add', 'clear', 'list', 'remove']);
    assert.ok(taste.options.every((option: any) => option.type === 1));
    assert.deepEqual(discord.commandRegistrations.map((entry) => entry.scope), [discord.defaultGuildId]);
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
    assert.deepEqual(new Set(names.slice(0, 7)), new Set(HIP_HOP.filter((name) => name !== 'Drake')));
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
    assert.ok(names.every((name) => alternative.includes(name)), names.join());
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

    const listed = await harness.discord.sendCommand({ name: 'taste', options: [subcommand('list')], user });
    const text = visibleTexts(listed.message!).join('\n');
    assert.match(text, /Drake/);
  });

  test('/recommend after a few tastes gives picks that exclude them', async () => {
    const user = makeUser('recommend-member');
    const liked = ['Drake', 'Kanye West', 'Rihanna'];
    for (const name of liked) {
      await harness.discord.sendCommand({ name: 'taste', options: [subcommand('add', [artistOption(name)])], user });
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
    const exchange = await harness.discord.sendCommand({ name: 'recommend', user: makeUser('nobody') });
    assert.equal(exchange.ephemeral, true);
    assert.match(exchange.message!.content, /taste/);
  });

  test('the buttons and the select menu on a /similar reply work', async () => {
    const user = makeUser('clicker');
    const reply = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Metallica')], user });
    const message = reply.message!;
    const button = message.components[0].components[0];
    const menu = message.components[1].components[0];
    assert.equal(button.type, 2);
    assert.equal(menu.type, 3);

    // "Add to my taste" adds the artist the reply is about, for the member who clicks.
    const clicked = await harness.discord.clickButton(reply, button.custom_id, { user });
    assert.equal(clicked.ephemeral, true);
    assert.deepEqual(harness.storage.listTaste(user.id).map((entry) => entry.artistName), ['Metallica']);

    // Picking a result shows that artist's neighbours in place of the same message.
    const pickedOption = menu.options.find((option: any) => option.label === 'Slayer') ?? menu.options[0];
    const picked = await harness.discord.selectMenu(reply, menu.custom_id, [pickedOption.value], { user });
    assert.equal(picked.callbackType, 7);
    assert.equal(picked.message!.id, message.id);
    assert.match(reply.message!.embeds[0].title, new RegExp(pickedOption.label));
    const metal = TINY_CLUSTERS[2].artists.map(([name]) => name);
    const names = rankedNames(reply.message!.embeds[0].description);
    assert.ok(names.slice(0, 5).every((name) => metal.includes(name)), names.join());
  });

  test('/forget-me asks, then deletes the member\'s tastes and requests', async () => {
    const user = makeUser('forgetful');
    const other = makeUser('bystander');
    await harness.discord.sendCommand({ name: 'taste', options: [subcommand('add', [artistOption('Muse')])], user });
    await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Muse')], user });
    await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Muse')], user: other });
    assert.equal(harness.storage.listTaste(user.id).length, 1);
    assert.ok(requestRows(harness, user.id).length >= 1);

    const asked = await harness.discord.sendCommand({ name: 'forget-me', user });
    assert.equal(asked.ephemeral, true);
    const confirm = asked.message!.components[0].components.find((c: any) => c.custom_id.includes('confirm'));

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
    const exchange = await harness.discord.sendCommand({ name: 'model', options: [subcommand('info')] });
    const text = visibleTexts(exchange.message!).join('\n');
    assert.match(text, new RegExp(String(harness.recommender.artistCount)));
  });

  test('an unknown artist gets a private "did you mean", and picking the suggestion works', async () => {
    const user = makeUser('typo');
    const exchange = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Drakke')], user });
    assert.equal(exchange.message!.flags & EPHEMERAL, EPHEMERAL);
    assert.match(exchange.message!.content, /Did you mean .*Drake/);
    assert.deepEqual(requestRows(harness, user.id), [{ command: 'similar', query: 'Drakke' }]);

    const menu = exchange.message!.components[0].components[0];
    const drake = menu.options.find((option: any) => option.label === 'Drake');
    const picked = await harness.discord.selectMenu(exchange, menu.custom_id, [drake.value], { user });
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

    const listed = await harness.discord.sendCommand({ name: 'taste', options: [subcommand('list')], user });
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
      const failed = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Drake')] });
      assert.equal(failed.ephemeral, true);
      const errorId = /`(E[0-9A-F]{8})`/.exec(failed.message!.content)?.[1];
      assert.ok(errorId, failed.message!.content);
      const logged = harness.logLines.find((line) => line.errorId === errorId);
      assert.equal(logged?.err?.message, 'similarity index exploded');
      assert.doesNotMatch(failed.message!.content, /exploded|at .*\.ts/, 'no stack trace to members');

      const next = await harness.discord.sendCommand({ name: 'model', options: [subcommand('info')] });
      assert.equal(next.callbackType, 4);
    } finally {
      harness.bot.servingModel.swap(working);
    }
    const healed = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Drake')] });
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

    const afterResume = await discord.sendCommand({ name: 'similar', options: [artistOption('Muse')] });
    assert.match(afterResume.message!.embeds[0].title, /Muse/);
    assert.equal(discord.identifyCount, 1, 'resumed the session rather than identifying again');
  });

  test('nothing the bot sent broke a limit or hit an unknown route', () => {
    assert.deepEqual(harness.discord.violations, []);
    assert.deepEqual(harness.discord.unknownRoutes, []);
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
    const first = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Drake')], user });
    assert.equal(first.ephemeral, false);

    const second = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Drake')], user });
    assert.equal(second.message!.flags & EPHEMERAL, EPHEMERAL);
    assert.match(second.message!.content, /try again in \d+ seconds/);
    assert.equal(requestRows(harness, user.id).length, 1, 'the refused command logs nothing');

    // Autocomplete and other members are not held up.
    const choices = await harness.discord.sendAutocomplete({
      name: 'similar', options: [artistOption('dra')], focused: 'artist', user,
    });
    assert.ok(choices.choices.length > 0);
    const other = await harness.discord.sendCommand({
      name: 'similar', options: [artistOption('Drake')], user: makeUser('patient'),
    });
    assert.equal(other.ephemeral, false);
  });
});

describe('fuzzing the bot with hostile option values', () => {
  let harness: BotUnderTest;

  before(async () => {
    harness = await startBotUnderTest();
  });

  after(async () => {
    await harness.stop();
  });

  /** Asserts every message an exchange produced is one Discord would accept and cannot ping. */
  function assertValidReply(exchange: InteractionExchange, label: string): void {
    assert.ok(exchange.responses.length > 0, `${label}: no response`);
    for (const response of exchange.responses) {
      assert.ok(response.status < 300, `${label}: status ${response.status} ${exchange.describe()}`);
      if (response.callbackType === 8) {
        assert.ok(response.data.choices.length <= 25, label);
        continue;
      }
      if (response.callbackType === 5 || response.callbackType === 6 || response.kind === 'delete') continue;
      assert.deepEqual(messageLimitViolations(response.data), [], label);
      assert.deepEqual(response.data.allowed_mentions?.parse, [], `${label}: allowed_mentions`);
      const content = response.data.content ?? '';
      assert.ok(content.length > 0 || (response.data.embeds ?? []).length > 0, `${label}: empty message`);
      assert.ok(JSON.stringify(response.data).length < 100_000, label);
    }
    // Only content can ping (embeds never do): it must be defused even without allowed_mentions.
    const content = exchange.message?.content ?? '';
    assert.doesNotMatch(content, /@(everyone|here)|<@[&!]?\d/, `${label}: a live mention in ${content}`);
  }

  test('a few thousand random and hostile values get valid replies and the bot stays up', async () => {
    const random = seededRandom(20261203);
    const members: FakeUser[] = Array.from({ length: 20 }, (_, index) => makeUser(`fuzz-${index}`));
    const targets: InteractionExchange[] = [];
    const started = performance.now();
    let sent = 0;

    /** One random interaction: a command, an autocomplete, or a component on an earlier reply. */
    const one = async (index: number): Promise<void> => {
      const user = members[Math.floor(random() * members.length)];
      const text = hostileString(random);
      const roll = random();
      const guildId = random() < 0.15 ? null : undefined;
      const label = `#${index} roll ${roll.toFixed(3)} text ${JSON.stringify(text.slice(0, 60))}`;
      const hostileInteger = [0, -1, 26, 101, 1e9, 3][Math.floor(random() * 6)];
      let exchange: InteractionExchange;

      if (roll < 0.3) {
        const options = [artistOption(text)];
        if (random() < 0.3) options.push({ name: 'count', type: 4, value: hostileInteger });
        exchange = await harness.discord.sendCommand({ name: 'similar', options, user, guildId });
      } else if (roll < 0.55) {
        const focusedCommand = random() < 0.5 ? 'similar' : 'taste';
        const options = focusedCommand === 'similar'
          ? [artistOption(text)]
          : [subcommand(random() < 0.5 ? 'add' : 'remove', [artistOption(text)])];
        exchange = await harness.discord.sendAutocomplete({ name: focusedCommand, options, focused: 'artist', user, guildId });
      } else if (roll < 0.75) {
        const action = ['add', 'remove', 'add', 'list'][Math.floor(random() * 4)];
        const options = action === 'list' ? [] : [artistOption(text)];
        if (action === 'add' && random() < 0.3) options.push({ name: 'weight', type: 4, value: hostileInteger });
        exchange = await harness.discord.sendCommand({ name: 'taste', options: [subcommand(action, options)], user, guildId });
      } else if (roll < 0.8) {
        exchange = await harness.discord.sendCommand({ name: 'recommend', user, guildId });
      } else {
        // A component on an earlier reply: a real custom id with a hostile value, or a forged id.
        const target = targets[Math.floor(random() * targets.length)];
        const components = (target?.message?.components ?? []).flatMap((row: any) => row.components);
        if (components.length === 0) {
          exchange = await harness.discord.sendCommand({ name: 'similar', options: [artistOption(text)], user });
        } else {
          const component = components[Math.floor(random() * components.length)];
          const forged = random() < 0.3;
          const customId = forged ? `${component.custom_id.split(':')[0]}:${text}`.slice(0, 100) : component.custom_id;
          const data = component.type === 3
            ? { custom_id: customId, component_type: 3, values: [text.slice(0, 100)] }
            : { custom_id: customId, component_type: 2 };
          exchange = await harness.discord.sendRawInteraction(3, data, { user, guildId: target.message!.guildId,
            channelId: target.message!.channelId }, { message: harness.discord.apiMessage(target.message!) });
        }
      }
      sent += 1;
      assertValidReply(exchange, label);
      if (exchange.message && exchange.message.components.length > 0 && targets.length < 200) targets.push(exchange);
    };

    // A few at a time, as members would, so the bot sees overlapping interactions.
    const total = 2000;
    const inFlight = 4;
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < total) await one(next++);
    }));

    const seconds = (performance.now() - started) / 1000;
    assert.equal(sent, total);
    assert.ok(seconds < 60, `the fuzz run took ${seconds.toFixed(1)} s`);
    assert.deepEqual(harness.discord.violations, []);

    // Still up and still right.
    assert.ok(harness.bot.client.isReady());
    const after = await harness.discord.sendCommand({ name: 'similar', options: [artistOption('Drake')] });
    assert.match(after.message!.embeds[0].title, /Drake/);
    const errors = harness.logLines.filter((line) => line.level >= 50);
    assert.deepEqual(errors.map((line) => line.msg), [], 'no error logged while fuzzing');
  });

  test('every artist of the model round-trips through /similar and the request log', async () => {
    const artists: ModelArtist[] = harness.recommender.data.artists;
    const user = makeUser('every-artist');
    for (const artist of artists) {
      const exchange = await harness.discord.sendCommand({ name: 'similar', options: [artistOption(artist.name)], user });
      assert.ok(exchange.message!.embeds.length === 1, `${artist.name}: ${exchange.message!.content}`);
    }
    const rows = harness.storage.database
      .prepare("SELECT artist_key FROM requests WHERE user_id = ? AND command = 'similar' ORDER BY rowid")
      .all(user.id) as { artist_key: string }[];
    assert.deepEqual(rows.map((row) => row.artist_key), artists.map((artist) => lookupKey(artist.name)));
  });
});
