/**
 * What keeps the bot up and quiet under abuse: cooldowns, the error id on a crashing handler,
 * hostile input to every artist option, and mentions that must never ping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlashCommandBuilder } from 'discord.js';
import type { BotCommand } from '../src/interactions/command.ts';
import type { Reply } from '../src/interactions/reply.ts';
import { escapeMarkdown, truncate } from '../src/interactions/text.ts';
import { lookupKey } from '../src/model/lookupKey.ts';
import { Recommender } from '../src/model/recommender.ts';
import {
  ALICE, BOB, allComponents, buttonLabels, commandHarness,
} from './support/commandHarness.ts';
import { tinyModel } from './support/tinyModel.ts';

const HOSTILE = [
  '',
  ' ',
  'a'.repeat(10_000),
  '\u200b\u200b\u200b',
  '🎸🔥💀'.repeat(50),
  '**bold** __under__ ~~strike~~ ||spoiler|| `code` > quote [link](https://evil.example)',
  '@everyone',
  '@here hello',
  '<@123456789012345678> <@&123456789012345678>',
  "'; DROP TABLE tastes; --",
  'Robert"); DELETE FROM requests WHERE ("1"="1',
  '\u0000\u0001\u0002',
  '%s %d ${process.exit()}',
  '\n\n\n',
  '#1',
  '#999999',
];

/** Discord's limits, checked independently of src/interactions/limits.ts. */
function assertWithinDiscordLimits(reply: Reply): void {
  assert.ok((reply.content ?? '').length <= 2000, 'content');
  assert.ok((reply.content ?? '').length > 0 || (reply.embeds ?? []).length > 0, 'not empty');
  let total = 0;
  for (const embed of reply.embeds ?? []) {
    assert.ok((embed.title ?? '').length <= 256, 'title');
    assert.ok((embed.description ?? '').length <= 4096, 'description');
    assert.ok((embed.fields ?? []).length <= 25, 'fields');
    for (const field of embed.fields ?? []) {
      assert.ok(field.name.length <= 256 && field.value.length <= 1024, 'field');
      total += field.name.length + field.value.length;
    }
    assert.ok((embed.footer?.text ?? '').length <= 2048, 'footer');
    total += (embed.title ?? '').length + (embed.description ?? '').length +
      (embed.footer?.text ?? '').length;
  }
  assert.ok(total <= 6000, 'embed total');
  assert.ok((reply.components ?? []).length <= 5, 'rows');
  for (const component of allComponents(reply)) {
    assert.ok(component.custom_id.length <= 100, 'custom id');
    if (component.type === 3) {
      assert.ok(component.options.length >= 1 && component.options.length <= 25, 'options');
      for (const option of component.options) {
        assert.ok(option.label.length <= 100 && option.value.length <= 100, 'option');
        assert.ok((option.description ?? '').length <= 100, 'option description');
      }
    } else {
      assert.ok(component.label.length <= 80, 'label');
    }
  }
}

function assertNoPing(reply: Reply): void {
  const content = reply.content ?? '';
  assert.doesNotMatch(content, /@everyone|@here|<@\d|<@&\d/, content);
}

test('hostile text in every artist option never crashes and never breaks a limit', async () => {
  const bot = commandHarness();
  for (const text of HOSTILE) {
    const replies = [
      await bot.runRaw('similar', { artist: text }),
      await bot.runRaw('similar', { artist: text, count: 25 }),
      await bot.runRaw('taste', { artist: text }, ALICE, 'add'),
      await bot.runRaw('taste', { artist: text }, ALICE, 'remove'),
    ];
    for (const reply of replies) {
      assert.doesNotMatch(reply.content ?? '', /error id/, `${JSON.stringify(text.slice(0, 40))}`);
      assertWithinDiscordLimits(reply);
      assertNoPing(reply);
    }
    for (const choice of bot.autocomplete('similar', 'artist', text)) {
      assert.ok(choice.name.length >= 1 && choice.name.length <= 100);
      assert.ok(choice.value.length >= 1 && choice.value.length <= 100);
    }
  }

  // SQL-looking text is stored as text: the tables are intact and the row holds it verbatim.
  const rows = bot.loggedRequests();
  assert.ok(rows.some((row) => row.query === "'; DROP TABLE tastes; --"));
  assert.ok(rows.every((row) => row.query.length <= 200));
  assert.doesNotThrow(() => bot.storage.listTaste(ALICE.id));
});

test('hostile text typed into the console parser is refused or answered, never thrown', async () => {
  const bot = commandHarness();
  for (const text of HOSTILE) {
    for (const line of [`/similar artist:${text}`, `/taste add artist:"${text}" weight:2`,
      `/taste remove artist:${text}`, `/recommend count:${text}`, text]) {
      try {
        assertWithinDiscordLimits(await bot.run(line));
      } catch (error) {
        // A parse refusal is a plain message for the member, not a crash.
        assert.ok(error instanceof Error && !/TypeError|RangeError/.test(error.name), String(error));
      }
    }
  }
});

test('an artist named @everyone is shown escaped and cannot ping', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/similar artist:@everyone');
  assert.match(reply.embeds?.[0]?.title ?? '', /@everyone/);

  // Adding it quotes the name in content: neutralised with a zero-width joiner.
  const added = await bot.run('/taste add artist:@everyone');
  assert.match(added.content ?? '', /@\u200deveryone/);
  assertNoPing(added);

  // Similar to a pop artist lists @everyone in an embed, neutralised too.
  const pop = await bot.run('/similar artist:Madonna count:25');
  const description = pop.embeds?.[0]?.description ?? '';
  assert.match(description, /@\u200deveryone/);
  assert.doesNotMatch(description, /@everyone/);

  // A typed mention in an unknown name is echoed harmlessly.
  const typed = await bot.run('/similar artist:<@123456789012345678> hi');
  assertNoPing(typed);
});

test('the cooldown answers privately with the wait and lets the member in after it', async () => {
  const bot = commandHarness({ cooldownSeconds: 2 });
  assert.ok((await bot.run('/similar artist:Drake')).embeds);

  bot.advance(500);
  const blocked = await bot.run('/similar artist:Drake');
  assert.equal(blocked.ephemeral, true);
  assert.match(blocked.content ?? '', /try again in 2 seconds/);

  // Other members, autocomplete and buttons are not held up.
  assert.ok((await bot.run('/similar artist:Muse', BOB)).embeds);
  assert.ok(bot.autocomplete('similar', 'artist', 'Dra').length > 0);

  bot.advance(1000);
  assert.match((await bot.run('/model')).content ?? '', /try again in 1 second\b/);
  bot.advance(600);
  assert.ok((await bot.run('/similar artist:Drake')).embeds);

  // 0 disables it.
  const free = commandHarness({ cooldownSeconds: 0 });
  for (let i = 0; i < 5; i += 1) assert.ok((await free.run('/similar artist:Drake')).embeds);
});

test('a throwing handler gives an error id to the member and its stack to the log', async () => {
  const crashing: BotCommand = {
    definition: new SlashCommandBuilder().setName('crash').setDescription('Fails').toJSON(),
    execute: () => { throw new Error('kaboom at line 42'); },
  };
  const bot = commandHarness({ extraCommands: [crashing] });

  const reply = await bot.run('/crash');
  assert.equal(reply.ephemeral, true);
  const errorId = /`(E[0-9A-F]{8})`/.exec(reply.content ?? '')?.[1];
  assert.ok(errorId, reply.content);
  assert.doesNotMatch(reply.content ?? '', /kaboom/);

  const logged = bot.logLines.find((line) => line.errorId === errorId);
  assert.ok(logged);
  assert.match(JSON.stringify(logged.err), /kaboom at line 42/);
  assert.match(JSON.stringify(logged.err), /stack/);

  // The bot keeps answering, and two failures get two ids.
  assert.ok((await bot.run('/similar artist:Drake')).embeds);
  const second = /`(E[0-9A-F]{8})`/.exec((await bot.run('/crash')).content ?? '')?.[1];
  assert.notEqual(second, errorId);
});

test('storage failures inside a command become an error id, not a crash', async () => {
  const bot = commandHarness();
  bot.storage.listTaste = () => { throw new Error('database is locked'); };
  const reply = await bot.run('/recommend');
  assert.match(reply.content ?? '', /error id/);
  assert.ok(bot.logLines.some((line) => line.msg === 'command failed'));
});

test('autocomplete returns at most 25 choices within 100 characters and logs nothing', async () => {
  const bot = commandHarness();
  const all = bot.autocomplete('similar', 'artist', '');
  assert.ok(all.length > 0 && all.length <= 25);
  const radio = bot.autocomplete('taste', 'artist', 'radio', ALICE, 'add');
  assert.equal(radio[0]?.value, 'Radiohead');
  assert.equal(bot.loggedRequests().length, 0);

  // A throwing autocomplete answers [] instead of failing the interaction.
  bot.servingModel.current.autocomplete = () => { throw new Error('index broken'); };
  assert.deepEqual(bot.autocomplete('similar', 'artist', 'x'), []);
});

test('unknown commands and stale buttons get a clear private answer', async () => {
  const bot = commandHarness();
  const unknown = await bot.runRaw('nope', {});
  assert.equal(unknown.ephemeral, true);
  const stale = await bot.dispatcher.handle({ kind: 'component', commandName: 'similar',
    customId: 'similar:add:no such artist', options: { getString: () => null,
      getInteger: () => null, getUser: () => null, getFocused: () => null },
    userId: ALICE.id, userName: ALICE.name, guildId: null, channelId: null,
    memberCanManageGuild: false });
  assert.equal(stale.ephemeral, true);
  assert.match(stale.content ?? '', /not in the current model/);
});

test('/recommend asks the transport to defer before folding in, but not for a private answer',
  async () => {
    const bot = commandHarness();
    let deferrals = 0;
    const defer = async () => { deferrals += 1; };

    const empty = await bot.dispatcher.handle(bot.request('/recommend'), { defer });
    assert.equal(empty.ephemeral, true);
    assert.equal(deferrals, 0);

    await bot.run('/taste add artist:Muse');
    const picks = await bot.dispatcher.handle(bot.request('/recommend'), { defer });
    assert.ok(picks.embeds);
    assert.equal(deferrals, 1);

    await bot.dispatcher.handle(bot.request('/similar artist:Muse'), { defer });
    assert.equal(deferrals, 1);
  });

test('artists with very long or id-like names round-trip through autocomplete and buttons',
  async () => {
    const bot = commandHarness();
    const data = tinyModel();
    const longName = `The ${'Very '.repeat(40)}Long Band`;
    data.artists = data.artists.map((artist) => {
      if (artist.name === 'Muse') return { ...artist, name: longName, key: lookupKey(longName) };
      if (artist.name === 'Coldplay') return { ...artist, name: '#1001', key: lookupKey('#1001') };
      return artist;
    });
    bot.servingModel.swap(new Recommender(data));

    for (const [typed, expected] of [['the very very', longName], ['#100', '#1001']]) {
      const choice = bot.autocomplete('similar', 'artist', typed)
        .find((candidate) => candidate.name.startsWith(expected.slice(0, 20)));
      assert.ok(choice, `no choice for ${typed}`);
      assert.ok(choice.value.length <= 100);
      const reply = await bot.runRaw('similar', { artist: choice.value });
      assert.equal(reply.embeds?.[0]?.title,
        truncate(`Artists similar to ${escapeMarkdown(expected)}`, 256));

      // The "Add" button's custom id fits and adds the right artist.
      const added = await bot.press(reply, { label: buttonLabels(reply)[0] ?? '' });
      assert.match(added.content ?? '', /Added/);
    }
    assert.deepEqual(bot.storage.listTaste(ALICE.id).map((entry) => entry.artistName).sort(),
      ['#1001', longName].sort());
  });

test('markdown in names is escaped in embed titles too (titles render markdown)', async () => {
  const bot = commandHarness();
  const data = tinyModel();
  data.artists = data.artists.map((artist) => artist.name === 'Slayer'
    ? { ...artist, name: '__Sl*ayer__', key: lookupKey('__Sl*ayer__') } : artist);
  bot.servingModel.swap(new Recommender(data));
  const reply = await bot.run('/similar artist:__Sl*ayer__');
  assert.equal(reply.embeds?.[0]?.title, 'Artists similar to \\_\\_Sl\\*ayer\\_\\_');
  const picks = await bot.run('/similar artist:Metallica');
  assert.match(picks.embeds?.[0]?.description ?? '', /\\_\\_Sl\\\*ayer\\_\\_/);
});
