/**
 * Fuzzing the real bot through the Discord stand-in: a few thousand random and hostile option
 * values (seeded), each reply checked against Discord's limits and for pings, the bot still up
 * and still right afterwards. Kept apart from test/e2e-bot.test.ts so each file stays short.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupKey } from '../src/model/lookupKey.ts';
import type { ModelArtist } from '../src/model/types.ts';
import { makeUser, messageLimitViolations } from './support/fakeDiscord.ts';
import type { FakeUser, InteractionExchange } from './support/fakeDiscord.ts';
import {
  artistOption,
  hostileString,
  seededRandom,
  startBotUnderTest,
  subcommand,
  visibleTexts,
} from './support/e2eHarness.ts';
import type { BotUnderTest } from './support/e2eHarness.ts';

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
      assert.ok(
        response.status < 300,
        `${label}: status ${response.status} ${exchange.describe()}`,
      );
      if (response.callbackType === 8) {
        assert.ok(response.data.choices.length <= 25, label);
        continue;
      }
      if (response.callbackType === 5 || response.callbackType === 6 || response.kind === 'delete')
        continue;
      assert.deepEqual(messageLimitViolations(response.data), [], label);
      assert.deepEqual(response.data.allowed_mentions?.parse, [], `${label}: allowed_mentions`);
      const content = response.data.content ?? '';
      assert.ok(
        content.length > 0 || (response.data.embeds ?? []).length > 0,
        `${label}: empty message`,
      );
      assert.ok(JSON.stringify(response.data).length < 100_000, label);
    }
    // Only content can ping (embeds never do): it must be defused even without allowed_mentions.
    const content = exchange.message?.content ?? '';
    assert.doesNotMatch(
      content,
      /@(everyone|here)|<@[&!]?\d/,
      `${label}: a live mention in ${content}`,
    );
  }

  // Generous: the run takes ~15 s on a quiet 2-core machine; the timeout only guards a hang.
  test(
    'a few thousand random and hostile values get valid replies and the bot stays up',
    { timeout: 120_000 },
    async () => {
      const random = seededRandom(20261203);
      const members: FakeUser[] = Array.from({ length: 20 }, (_, index) =>
        makeUser(`fuzz-${index}`),
      );
      const targets: InteractionExchange[] = [];
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
          const options =
            focusedCommand === 'similar'
              ? [artistOption(text)]
              : [subcommand(random() < 0.5 ? 'add' : 'remove', [artistOption(text)])];
          exchange = await harness.discord.sendAutocomplete({
            name: focusedCommand,
            options,
            focused: 'artist',
            user,
            guildId,
          });
        } else if (roll < 0.75) {
          const action = ['add', 'remove', 'add', 'list'][Math.floor(random() * 4)];
          const options = action === 'list' ? [] : [artistOption(text)];
          if (action === 'add' && random() < 0.3)
            options.push({ name: 'weight', type: 4, value: hostileInteger });
          exchange = await harness.discord.sendCommand({
            name: 'taste',
            options: [subcommand(action, options)],
            user,
            guildId,
          });
        } else if (roll < 0.8) {
          exchange = await harness.discord.sendCommand({ name: 'recommend', user, guildId });
        } else {
          // A component on an earlier reply: a real custom id with a hostile value, or a forged id.
          const target = targets[Math.floor(random() * targets.length)];
          const components = (target?.message?.components ?? []).flatMap(
            (row: any) => row.components,
          );
          if (components.length === 0) {
            exchange = await harness.discord.sendCommand({
              name: 'similar',
              options: [artistOption(text)],
              user,
            });
          } else {
            const component = components[Math.floor(random() * components.length)];
            const forged = random() < 0.3;
            const customId = forged
              ? `${component.custom_id.split(':')[0]}:${text}`.slice(0, 100)
              : component.custom_id;
            const data =
              component.type === 3
                ? { custom_id: customId, component_type: 3, values: [text.slice(0, 100)] }
                : { custom_id: customId, component_type: 2 };
            exchange = await harness.discord.sendRawInteraction(
              3,
              data,
              { user, guildId: target.message!.guildId, channelId: target.message!.channelId },
              { message: harness.discord.apiMessage(target.message!) },
            );
          }
        }
        sent += 1;
        assertValidReply(exchange, label);
        if (exchange.message && exchange.message.components.length > 0 && targets.length < 200)
          targets.push(exchange);
      };

      // A few at a time, as members would, so the bot sees overlapping interactions.
      const total = 2000;
      const inFlight = 4;
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < total) await one(next++);
        }),
      );

      assert.equal(sent, total);
      assert.deepEqual(harness.discord.violations, []);

      // Still up and still right.
      assert.ok(harness.bot.client.isReady());
      const after = await harness.discord.sendCommand({
        name: 'similar',
        options: [artistOption('Drake')],
      });
      assert.match(after.message!.embeds[0].title, /Drake/);
      const errors = harness.logLines.filter((line) => line.level >= 50);
      assert.deepEqual(
        errors.map((line) => line.msg),
        [],
        'no error logged while fuzzing',
      );
    },
  );

  test('every artist of the model round-trips through /similar and the request log', async () => {
    const artists: ModelArtist[] = harness.recommender.data.artists;
    const user = makeUser('every-artist');
    for (const artist of artists) {
      const exchange = await harness.discord.sendCommand({
        name: 'similar',
        options: [artistOption(artist.name)],
        user,
      });
      assert.ok(
        exchange.message!.embeds.length === 1,
        `${artist.name}: ${exchange.message!.content}`,
      );
    }
    const rows = harness.storage.database
      .prepare(
        "SELECT artist_key FROM requests WHERE user_id = ? AND command = 'similar' ORDER BY rowid",
      )
      .all(user.id) as { artist_key: string }[];
    assert.deepEqual(
      rows.map((row) => row.artist_key),
      artists.map((artist) => lookupKey(artist.name)),
    );
  });
});
