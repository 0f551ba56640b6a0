/**
 * The discord.js client the bot builds: its JSON transformer gives exactly what discord.js' own
 * default gives (checked against it, on the bot's real replies and on camelCase input), and its
 * user cache is bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbedBuilder, Options } from 'discord.js';
import { artistChoices } from '../src/interactions/artists.ts';
import {
  createDiscordClient, MEMBER_CACHE_SIZE, snakeCaseJson,
} from '../src/transports/discord.ts';
import { commandHarness } from './support/commandHarness.ts';

const discordJsDefault = Options.createDefault().jsonTransformer as (value: unknown) => unknown;

test('snakeCaseJson equals discord.js\' default on the bot\'s replies and choices', async () => {
  const bot = commandHarness();
  const replies = [
    await bot.run('/similar artist:Drake count:5'),
    await bot.run('/similar artist:zzzzqqqq'),
    await bot.run('/taste add artist:Muse'),
    await bot.run('/taste list'),
    await bot.run('/recommend'),
  ];
  const choices = artistChoices(bot.recommender, 'ra');
  assert.ok(choices.length > 0);

  for (const value of [...replies, ...replies.flatMap((reply) => reply.embeds ?? []),
    ...replies.flatMap((reply) => reply.components ?? []), ...choices]) {
    assert.deepEqual(snakeCaseJson(value), discordJsDefault(value));
  }
});

test('snakeCaseJson leaves anything not already snake_case to discord.js', () => {
  const cases: unknown[] = [
    { customId: 'a', nameLocalizations: { 'en-US': 'x' }, nested: [{ maxValues: 2 }] },
    { label: 'x', emoji: '🎵' },
    { label: 'x', emoji: { name: '🎵' } },
    { h1: 'digits split in lodash', plain: 1 },
    { at: new Date(0), list: [1, 'two', null, { deep_key: true }] },
    new EmbedBuilder().setTitle('built').setFooter({ text: 'f', iconURL: 'https://x.test/i.png' }),
    [{ name: 'Drake', value: 'Drake' }, { name: 'Mumford & Sons', value: '#12' }],
    'a string', 42, null, undefined,
  ];
  for (const value of cases) assert.deepEqual(snakeCaseJson(value), discordJsDefault(value));
});

test('snakeCaseJson copies: changing its result leaves the reply untouched', () => {
  const reply = { embeds: [{ title: 'Similar', fields: [{ name: 'a', value: 'b' }] }] };
  const copy = snakeCaseJson(reply) as typeof reply;
  copy.embeds[0].fields[0].name = 'changed';
  assert.equal(reply.embeds[0].fields[0].name, 'a');
});

test('the client bounds its user cache, oldest out first', async () => {
  const client = createDiscordClient('http://127.0.0.1:9');
  try {
    const users = client.users as unknown as {
      _add(data: object): unknown;
      cache: Map<string, unknown>;
    };
    for (let i = 0; i < MEMBER_CACHE_SIZE + 50; i++) {
      users._add({ id: String(400000000000000000n + BigInt(i)), username: `member${i}`,
        discriminator: '0' });
    }
    assert.equal(users.cache.size, MEMBER_CACHE_SIZE);
    // The most recent members stay; the oldest went first.
    assert.ok(users.cache.has(String(400000000000000000n + BigInt(MEMBER_CACHE_SIZE + 49))));
    assert.ok(!users.cache.has('400000000000000000'));
  } finally {
    await client.destroy();
  }
});
