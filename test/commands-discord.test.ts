/**
 * The Discord adapter on hand-made interaction doubles: which discord.js method answers each
 * case (reply, deferReply + editReply, update, followUp, respond), always with
 * `allowedMentions: { parse: [] }`, and never a throw when Discord refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import type { Interaction } from 'discord.js';
import pino from 'pino';
import type { BotCommand } from '../src/interactions/command.ts';
import { ANSWER_WINDOW_MS, handleInteraction, toRequest } from '../src/transports/discord.ts';
import { ALICE, commandHarness } from './support/commandHarness.ts';

type Call = [method: string, payload?: any];

/** A minimal stand-in for a discord.js interaction that records what the adapter calls. */
function fakeInteraction(kind: 'command' | 'autocomplete' | 'button' | 'select', fields: {
  commandName?: string; subcommand?: string; options?: Record<string, string | number>;
  focused?: string; customId?: string; values?: string[]; failWith?: Error;
}) {
  const calls: Call[] = [];
  const record = (method: string) => async (payload?: unknown) => {
    calls.push([method, payload]);
    if (fields.failWith !== undefined) throw fields.failWith;
  };
  const options = fields.options ?? {};
  const interaction = {
    user: { id: ALICE.id, username: 'alice', globalName: 'Alice' },
    guildId: '200000000000000001',
    channelId: '300000000000000001',
    memberPermissions: { has: () => false },
    commandName: fields.commandName,
    customId: fields.customId,
    values: fields.values,
    isChatInputCommand: () => kind === 'command',
    isAutocomplete: () => kind === 'autocomplete',
    isButton: () => kind === 'button',
    isStringSelectMenu: () => kind === 'select',
    isMessageComponent: () => kind === 'button' || kind === 'select',
    options: {
      get: (name: string) => (name in options ? { value: options[name] } : null),
      getSubcommand: () => fields.subcommand ?? null,
      getUser: () => null,
      getFocused: () => ({ name: fields.focused ?? '', value: options[fields.focused ?? ''] }),
    },
    reply: record('reply'),
    deferReply: record('deferReply'),
    editReply: record('editReply'),
    deleteReply: record('deleteReply'),
    followUp: record('followUp'),
    update: record('update'),
    deferUpdate: record('deferUpdate'),
    respond: record('respond'),
  };
  return { interaction: interaction as unknown as Interaction, calls };
}

const silent = pino({ level: 'silent' });

function assertNoMentions(calls: Call[]) {
  for (const [method, payload] of calls) {
    if (['reply', 'editReply', 'followUp', 'update'].includes(method)) {
      assert.deepEqual(payload?.allowedMentions, { parse: [] }, method);
    }
  }
}

test('a command becomes a neutral request with hoisted options', () => {
  const { interaction } = fakeInteraction('command', { commandName: 'taste', subcommand: 'add',
    options: { artist: 'Muse', weight: 3 } });
  const request = toRequest(interaction);
  assert.equal(request?.kind, 'command');
  assert.equal(request?.subcommand, 'add');
  assert.equal(request?.userName, 'Alice');
  assert.equal(request?.options.getString('artist'), 'Muse');
  assert.equal(request?.options.getInteger('weight'), 3);
  assert.equal(request?.memberCanManageGuild, false);
});

test('a quick command is answered with one reply, private ones flagged ephemeral', async () => {
  const bot = commandHarness();
  const quick = fakeInteraction('command', { commandName: 'similar', options: { artist: 'Drake' } });
  await handleInteraction(quick.interaction, bot.dispatcher, silent);
  assert.deepEqual(quick.calls.map(([method]) => method), ['reply']);
  assert.equal(quick.calls[0]?.[1].flags, undefined);
  assert.match(quick.calls[0]?.[1].embeds[0].title, /Drake/);

  const unknown = fakeInteraction('command', { commandName: 'similar',
    options: { artist: 'zzzzqqqq' } });
  await handleInteraction(unknown.interaction, bot.dispatcher, silent);
  assert.equal(unknown.calls[0]?.[1].flags, MessageFlags.Ephemeral);
  assertNoMentions([...quick.calls, ...unknown.calls]);
});

test('/recommend defers, then edits the deferred reply', async () => {
  const bot = commandHarness();
  await bot.run('/taste add artist:Muse');
  const { interaction, calls } = fakeInteraction('command', { commandName: 'recommend' });
  await handleInteraction(interaction, bot.dispatcher, silent);
  assert.deepEqual(calls.map(([method]) => method), ['deferReply', 'editReply']);
  assert.ok(calls[1]?.[1].embeds.length === 1);
  assertNoMentions(calls);
});

test('a handler still running after the deadline is deferred; a private answer then follows up',
  async () => {
    const slowPrivate: BotCommand = {
      definition: new SlashCommandBuilder().setName('slow').setDescription('Slow').toJSON(),
      execute: async () => {
        await new Promise((resolve) => setTimeout(resolve, 80));
        return { content: 'done @everyone', ephemeral: true };
      },
    };
    const bot = commandHarness({ extraCommands: [slowPrivate] });
    const { interaction, calls } = fakeInteraction('command', { commandName: 'slow' });
    await handleInteraction(interaction, bot.dispatcher, silent, 20);
    assert.deepEqual(calls.map(([method]) => method), ['deferReply', 'deleteReply', 'followUp']);
    assert.equal(calls[2]?.[1].flags, MessageFlags.Ephemeral);
    assert.equal(calls[2]?.[1].content, 'done @\u200deveryone');
    assertNoMentions(calls);
  });

test('buttons update in place or answer anew; autocomplete responds', async () => {
  const bot = commandHarness();
  const reply = await bot.run('/similar artist:Drake count:3');
  const menu = reply.components?.[1]?.components[0];
  assert.ok(menu !== undefined && menu.type === 3);

  const pick = fakeInteraction('select', { customId: menu.custom_id,
    values: [menu.options[0]?.value ?? ''] });
  await handleInteraction(pick.interaction, bot.dispatcher, silent);
  assert.deepEqual(pick.calls.map(([method]) => method), ['update']);

  const button = reply.components?.[0]?.components[0];
  assert.ok(button !== undefined && button.type === 2);
  const add = fakeInteraction('button', { customId: button.custom_id });
  await handleInteraction(add.interaction, bot.dispatcher, silent);
  assert.deepEqual(add.calls.map(([method]) => method), ['reply']);
  assert.equal(add.calls[0]?.[1].flags, MessageFlags.Ephemeral);
  assertNoMentions([...pick.calls, ...add.calls]);

  const typing = fakeInteraction('autocomplete', { commandName: 'similar', focused: 'artist',
    options: { artist: 'radio' } });
  await handleInteraction(typing.interaction, bot.dispatcher, silent);
  assert.equal(typing.calls[0]?.[0], 'respond');
  assert.equal(typing.calls[0]?.[1][0].value, 'Radiohead');
});

test('an autocomplete older than the window Discord answers in is dropped unanswered', async () => {
  const bot = commandHarness();
  const now = () => 1_800_000_000_000;
  const typed = (ageMs: number) => {
    const fake = fakeInteraction('autocomplete', { commandName: 'similar', focused: 'artist',
      options: { artist: 'radio' } });
    Object.assign(fake.interaction, { createdTimestamp: now() - ageMs });
    return fake;
  };

  const stale = typed(ANSWER_WINDOW_MS + 1);
  await handleInteraction(stale.interaction, bot.dispatcher, silent, { now });
  assert.deepEqual(stale.calls, []);

  const fresh = typed(ANSWER_WINDOW_MS - 500);
  await handleInteraction(fresh.interaction, bot.dispatcher, silent, { now });
  assert.equal(fresh.calls[0]?.[0], 'respond');
  assert.equal(fresh.calls[0]?.[1][0].value, 'Radiohead');
});

test('when Discord refuses the answer, the adapter logs and does not throw', async () => {
  const bot = commandHarness();
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(line); } });
  const { interaction } = fakeInteraction('command', { commandName: 'model',
    failWith: new Error('Unknown interaction') });
  await assert.doesNotReject(handleInteraction(interaction, bot.dispatcher, logger));
  assert.match(lines.join(''), /could not answer an interaction/);
});
