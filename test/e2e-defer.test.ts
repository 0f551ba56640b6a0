/**
 * Deferring on arrival: an interaction that reaches the bot already old (its snowflake id says
 * when Discord created it) or while the event loop is backed up is acknowledged with a defer
 * before its handler runs, so the member never sees "The application did not respond". Through
 * the real bot and the Discord stand-in, plus the decision itself on fixed clocks.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Interaction } from 'discord.js';
import pino from 'pino';
import {
  BACKLOG_AFTER_MS, DEFER_IF_OLDER_THAN_MS, earlyDeferReason, EventLoopWatch, handleInteraction,
  isClosedConnectionError, retryOnClosedConnection, TurnQueue,
} from '../src/transports/discord.ts';
import { makeUser } from './support/fakeDiscord.ts';
import type { InteractionExchange } from './support/fakeDiscord.ts';
import { artistOption, rankedNames, requestRows, startBotUnderTest } from './support/e2eHarness.ts';
import type { BotUnderTest } from './support/e2eHarness.ts';
import { commandHarness } from './support/commandHarness.ts';

/** The kinds and statuses of what the bot did, in order: `callback5:200`, `edit:200`... */
function steps(exchange: InteractionExchange): string[] {
  return exchange.responses.map((response) =>
    `${response.kind}${response.callbackType ?? ''}:${response.status}`);
}

describe('deferring interactions that arrive late', () => {
  let harness: BotUnderTest;

  before(async () => {
    harness = await startBotUnderTest();
  });

  after(async () => {
    await harness.stop();
  });

  test('a fresh /similar is answered directly, an old one deferred then edited alike',
    async () => {
      const { discord } = harness;
      const user = makeUser('late-member');
      const fresh = await discord.sendCommand({ name: 'similar', user,
        options: [artistOption('Drake')] });
      const old = await discord.sendCommand({ name: 'similar', user,
        options: [artistOption('Drake')], createdAt: Date.now() - 2000 });

      assert.deepEqual(steps(fresh), ['callback4:200']);
      assert.deepEqual(steps(old), ['callback5:200', 'edit:200']);
      assert.equal(old.ephemeral, false);
      assert.deepEqual(rankedNames(old.message!.embeds[0].description),
        rankedNames(fresh.message!.embeds[0].description));
      assert.ok(rankedNames(old.message!.embeds[0].description).includes('Kanye West'));

      // The defer is what Discord saw first, and soon: well inside its 3 s window.
      assert.ok(old.responses[0].elapsedMs < 1000, `deferred after ${old.responses[0].elapsedMs}`);
      assert.equal(requestRows(harness, user.id).length, 2);
    });

  test('an old interaction just under the threshold is not deferred', async () => {
    const exchange = await harness.discord.sendCommand({ name: 'similar',
      user: makeUser('nearly-late'), options: [artistOption('Metallica')],
      createdAt: Date.now() - (DEFER_IF_OLDER_THAN_MS - 700) });
    assert.deepEqual(steps(exchange), ['callback4:200']);
  });

  test('an old private answer becomes a private follow-up after the public defer', async () => {
    const exchange = await harness.discord.sendCommand({ name: 'similar',
      user: makeUser('late-typo'), options: [artistOption('zzzqqxj')],
      createdAt: Date.now() - 5000 });
    assert.deepEqual(steps(exchange), ['callback5:200', 'delete:204', 'followup:200']);
    assert.equal(exchange.ephemeral, true);
    assert.match(exchange.message!.content, /couldn't find/);
  });

  test('an old menu pick is acknowledged with a deferred update, then edited in place',
    async () => {
      const { discord } = harness;
      const user = makeUser('late-picker');
      const first = await discord.sendCommand({ name: 'similar', user,
        options: [artistOption('Radiohead')] });
      const menu = first.message!.components[1].components[0];
      const before = rankedNames(first.message!.embeds[0].description);
      const pick = await discord.selectMenu(first, menu.custom_id, [menu.options[0].value],
        { user, createdAt: Date.now() - 2500 });
      assert.deepEqual(steps(pick), ['callback6:200', 'edit:200']);
      assert.equal(pick.message!.id, first.message!.id);
      const after = rankedNames(pick.message!.embeds[0].description);
      assert.equal(after.length, before.length);
      assert.notDeepEqual(after, before);
      assert.ok(after.includes('Radiohead'), `neighbours of ${before[0]}: ${after}`);
    });

  test('an old autocomplete still gets its choices (it cannot be deferred)', async () => {
    const exchange = await harness.discord.sendAutocomplete({ name: 'similar',
      options: [{ name: 'artist', type: 3, value: 'Dra' }], focused: 'artist',
      createdAt: Date.now() - 2000 });
    assert.deepEqual(steps(exchange), ['callback8:200']);
    const names = exchange.choices.map((choice) => choice.name);
    assert.ok(names.includes('Drake'), `choices for "Dra": ${names}`);
  });
});

test('earlyDeferReason: by snowflake age, by a stalled event loop, else none', () => {
  const now = () => 1_700_000_010_000;
  const at = (ageMs: number) => ({ createdTimestamp: now() - ageMs });
  assert.equal(earlyDeferReason(at(100), { now }), undefined);
  assert.equal(earlyDeferReason(at(DEFER_IF_OLDER_THAN_MS + 1), { now }), 'old');
  assert.equal(earlyDeferReason(at(900), { now, olderThanMs: 800 }), 'old');
  assert.equal(earlyDeferReason({}, { now }), undefined);
  assert.equal(earlyDeferReason({ createdTimestamp: Number.NaN }, { now }), undefined);
  const stalled = (stalledMs: number) => ({ stalledMs });
  assert.equal(earlyDeferReason(at(10), { now, watch: stalled(BACKLOG_AFTER_MS + 1) }), 'backlog');
  assert.equal(earlyDeferReason(at(10), { now, watch: stalled(20) }), undefined);
  assert.equal(earlyDeferReason(at(10), { now, watch: stalled(600), backlogAfterMs: 500 }),
    'backlog');
  assert.equal(earlyDeferReason(at(10), { now, watch: stalled(600), backlogAfterMs: 700 }),
    undefined);
});

test('the event-loop watch sees a blocked loop and recovers after it', async () => {
  const watch = new EventLoopWatch(10);
  try {
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(watch.stalledMs < 25, `free loop stalled ${watch.stalledMs} ms`);
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // Busy: no timer can run.
    }
    assert.ok(watch.stalledMs >= 100, `blocked loop stalled only ${watch.stalledMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(watch.stalledMs < 25);
  } finally {
    watch.stop();
  }
});

test('with the loop backed up, a command is deferred before its handler runs', async () => {
  const bot = commandHarness();
  const calls: string[] = [];
  const record = (method: string) => async () => {
    calls.push(method);
  };
  const interaction = {
    user: { id: '100000000000000042', username: 'busy', globalName: null },
    guildId: '200000000000000001',
    channelId: '300000000000000001',
    createdTimestamp: Date.now(),
    memberPermissions: { has: () => false },
    commandName: 'similar',
    isChatInputCommand: () => true,
    isAutocomplete: () => false,
    isButton: () => false,
    isStringSelectMenu: () => false,
    isMessageComponent: () => false,
    options: {
      get: (name: string) => (name === 'artist' ? { value: 'Drake' } : null),
      getSubcommand: () => null,
      getUser: () => null,
      getFocused: () => null,
    },
    reply: record('reply'),
    deferReply: record('deferReply'),
    editReply: record('editReply'),
    deleteReply: record('deleteReply'),
    followUp: record('followUp'),
  } as unknown as Interaction;

  const silent = pino({ level: 'silent' });
  await handleInteraction(interaction, bot.dispatcher, silent, { watch: { stalledMs: 2000 } });
  assert.deepEqual(calls, ['deferReply', 'editReply']);
  calls.length = 0;
  await handleInteraction(interaction, bot.dispatcher, silent, { watch: { stalledMs: 5 } });
  assert.deepEqual(calls, ['reply']);
});

test('a call that died on a closed keep-alive connection is made once more, others are not',
  async () => {
    const closed = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    let calls = 0;
    const flaky = async () => {
      calls += 1;
      if (calls === 1) throw closed;
      return 'sent';
    };
    assert.equal(await retryOnClosedConnection(flaky), 'sent');
    assert.equal(calls, 2);

    calls = 0;
    const refused = async () => {
      calls += 1;
      throw Object.assign(new Error('Unknown interaction'), { code: 10062 });
    };
    await assert.rejects(retryOnClosedConnection(refused), /Unknown interaction/);
    assert.equal(calls, 1);

    calls = 0;
    const dead = async () => {
      calls += 1;
      throw closed;
    };
    await assert.rejects(retryOnClosedConnection(dead), /other side closed/);
    assert.equal(calls, 2);
    assert.equal(isClosedConnectionError(closed), true);
    assert.equal(isClosedConnectionError(new Error('x')), false);
  });

test('turns are given in order, one per event-loop turn', async () => {
  const turns = new TurnQueue();
  const order: string[] = [];
  let seenWhenFirstRan: string[] = [];
  const waiters = ['a', 'b', 'c', 'd'].map((name) => turns.turn().then(() => {
    order.push(name);
    // Anything released in the same turn as 'a' would already be in `order` here.
    if (name === 'a') queueMicrotask(() => (seenWhenFirstRan = [...order]));
  }));
  assert.equal(turns.waiting, 4);
  await Promise.all(waiters);
  assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  assert.deepEqual(seenWhenFirstRan, ['a']);
  assert.equal(turns.waiting, 0);

  // A turn asked for later still comes (the queue restarts after draining).
  await turns.turn();
  assert.equal(turns.waiting, 0);
});
