/**
 * The Discord stand-in against a bare discord.js client (no bot code): login, command
 * registration, every interaction kind, message edits and follow-ups, multipart, resume.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  Events,
  MessageFlags,
  Routes,
  StringSelectMenuBuilder,
} from 'discord.js';
import { WebSocket } from 'ws';
import type { Interaction } from 'discord.js';
import { FakeDiscord, makeUser, messageLimitViolations } from './support/fakeDiscord.ts';

const token = 'standin-token';
const applicationId = '1200000000000000001';

/** A client pointed at the fake, failing fast instead of retrying for 15 s. */
function newClient(discord: FakeDiscord): Client {
  return new Client({ intents: [], rest: { api: discord.restUrl, timeout: 3000, retries: 0 } });
}

/** Logs `client` in and waits for clientReady. */
async function loginAndWaitReady(client: Client, loginToken = token): Promise<void> {
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(loginToken);
  await ready;
}

describe('fake Discord with a bare discord.js client', () => {
  let discord: FakeDiscord;
  let client: Client;
  const handlerErrors: unknown[] = [];

  before(async () => {
    discord = await FakeDiscord.start({ token, applicationId });
    client = newClient(discord);
    client.on(Events.InteractionCreate, (interaction) => {
      handle(interaction).catch((error) => handlerErrors.push(error));
    });
    await loginAndWaitReady(client);
  });

  after(async () => {
    await client.destroy();
    await discord.stop();
  });

  /** A tiny bot covering every response route. */
  async function handle(interaction: Interaction): Promise<void> {
    if (interaction.isAutocomplete()) {
      const typed = interaction.options.getFocused();
      const names = ['Drake', 'Dragonforce', 'Dr. Dre', 'Radiohead'];
      const matches = names.filter((name) => name.toLowerCase().startsWith(typed.toLowerCase()));
      await interaction.respond(matches.map((name) => ({ name, value: name })));
      return;
    }
    if (interaction.isButton()) {
      await interaction.update({ content: `clicked ${interaction.customId}`, components: [] });
      return;
    }
    if (interaction.isStringSelectMenu()) {
      await interaction.deferUpdate();
      await interaction.editReply({ content: `picked ${interaction.values.join(',')}` });
      return;
    }
    if (!interaction.isChatInputCommand()) return;

    switch (interaction.commandName) {
      case 'echo': {
        const text = interaction.options.getString('text', true);
        const where = interaction.inGuild() ? `guild ${interaction.guildId}` : 'dm';
        await interaction.reply({ content: `${text} (${where})`, allowedMentions: { parse: [] } });
        return;
      }
      case 'slow': {
        await interaction.deferReply({ flags: MessageFlags.Ephemeral });
        await new Promise((resolve) => setTimeout(resolve, 20));
        await interaction.editReply({ content: 'done' });
        await interaction.followUp({ content: 'and a follow-up' });
        return;
      }
      case 'buttons': {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('yes').setLabel('Yes').setStyle(ButtonStyle.Primary),
        );
        const menu = new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(
          new StringSelectMenuBuilder()
            .setCustomId('pick')
            .addOptions({ label: 'A', value: 'a' }, { label: 'B', value: 'b' }),
        );
        const response = await interaction.reply({
          content: 'choose',
          components: [row, menu],
          withResponse: true,
        });
        assert.ok(response.resource?.message?.id, 'with_response carries the message');
        return;
      }
      case 'file': {
        const file = new AttachmentBuilder(Buffer.from('artist,score\nDrake,1\n'), {
          name: 'picks.csv',
        });
        await interaction.reply({ content: 'here', files: [file] });
        return;
      }
      case 'twice': {
        await interaction.reply({ content: 'first' });
        // discord.js refuses a second reply itself, so go round it to reach the fake.
        const route = Routes.interactionCallback(interaction.id, interaction.token);
        const body = { type: 4, data: { content: 'second' } };
        await interaction.client.rest.post(route, { body, auth: false }).catch((error: Error) => {
          handlerErrors.push(`expected: ${error.message}`);
        });
        return;
      }
      case 'huge': {
        await interaction.reply({ content: 'x'.repeat(2001) }).catch(() => undefined);
        return;
      }
    }
  }

  test('logs in, sees the guild, and registers commands', async () => {
    assert.equal(discord.identifyCount, 1);
    assert.equal(client.user?.id, applicationId);
    assert.ok(client.guilds.cache.has(discord.defaultGuildId!));
    const commands = [
      {
        name: 'echo',
        description: 'echo',
        options: [{ name: 'text', description: 't', type: 3, required: true }],
      },
    ];
    const registered = await client.application!.commands.set(commands);
    assert.deepEqual(
      discord.registeredCommands?.map((command) => command.name),
      ['echo'],
    );
    assert.equal(discord.registeredCommands?.[0].options[0].name, 'text');
    assert.equal(registered.first()?.name, 'echo');
  });

  test('a slash command in a guild gets a reply with allowed_mentions', async () => {
    const user = makeUser('alice');
    const exchange = await discord.sendCommand({
      name: 'echo',
      options: [{ name: 'text', type: 3, value: '@everyone hi' }],
      user,
    });
    assert.equal(exchange.callbackType, 4);
    assert.equal(exchange.message?.content, `@everyone hi (guild ${discord.defaultGuildId})`);
    assert.deepEqual(exchange.message?.allowedMentions, { parse: [] });
    assert.equal(exchange.ephemeral, false);
  });

  test('a slash command in a DM', async () => {
    const exchange = await discord.sendCommand({
      name: 'echo',
      options: [{ name: 'text', type: 3, value: 'hello' }],
      user: makeUser('bob'),
      guildId: null,
    });
    assert.equal(exchange.message?.content, 'hello (dm)');
    assert.equal(exchange.message?.guildId, null);
  });

  test('defer, edit @original, then a follow-up', async () => {
    const exchange = await discord.sendCommand({ name: 'slow', user: makeUser('carol') });
    assert.equal(exchange.callbackType, 5);
    assert.equal(exchange.message?.content, 'done');
    assert.equal(exchange.ephemeral, true);
    await exchange.waitFor((response) => response.kind === 'followup');
    assert.equal(exchange.followUps[0]?.content, 'and a follow-up');
    assert.deepEqual(
      exchange.responses.map((response) => response.kind),
      ['callback', 'edit', 'followup'],
    );
  });

  test("with until: 'ack' a defer settles at once, showing a loading message", async () => {
    const exchange = await discord.sendCommand({ name: 'slow', until: 'ack' });
    assert.equal(exchange.callbackType, 5);
    assert.equal(exchange.responses.length, 1);
    assert.equal(exchange.message?.loading, true);
    assert.equal(discord.apiMessage(exchange.message!).flags, 64 | 128);
    await exchange.waitFor((response) => response.kind === 'edit');
    assert.equal(exchange.message?.loading, false);
    assert.equal(exchange.message?.content, 'done');
    await exchange.waitFor((response) => response.kind === 'followup');
  });

  test('autocomplete answers with choices', async () => {
    const exchange = await discord.sendAutocomplete({
      name: 'echo',
      options: [{ name: 'text', type: 3, value: 'dr' }],
      focused: 'text',
    });
    assert.equal(exchange.callbackType, 8);
    assert.deepEqual(
      exchange.choices.map((choice) => choice.name),
      ['Drake', 'Dragonforce', 'Dr. Dre'],
    );
  });

  test('buttons and select menus on a reply made with with_response', async () => {
    const user = makeUser('dave');
    const reply = await discord.sendCommand({ name: 'buttons', user });
    assert.equal(reply.message?.content, 'choose');

    const picked = await discord.selectMenu(reply, 'pick', ['b'], { user });
    assert.equal(picked.callbackType, 6);
    assert.equal(picked.message?.id, reply.message?.id, 'the select edits the same message');
    assert.equal(reply.message?.content, 'picked b');

    const clicked = await discord.clickButton(reply, 'yes', { user });
    assert.equal(clicked.callbackType, 7);
    assert.equal(reply.message?.content, 'clicked yes');
    assert.deepEqual(reply.message?.components, []);
    assert.throws(() => discord.clickButton(reply, 'yes', { user }), /no component/);
    assert.equal(handlerErrors.length, 0, String(handlerErrors));
  });

  test('multipart replies keep payload_json and the file', async () => {
    const exchange = await discord.sendCommand({ name: 'file' });
    assert.equal(exchange.message?.content, 'here');
    assert.equal(exchange.message?.attachments[0]?.filename, 'picks.csv');
    assert.equal(exchange.message?.attachments[0]?.size, 'artist,score\nDrake,1\n'.length);
  });

  test('a second reply is refused as already acknowledged', async () => {
    const exchange = await discord.sendCommand({ name: 'twice' });
    await exchange.waitFor((response) => response.status === 400);
    assert.equal(exchange.message?.content, 'first');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(handlerErrors.some((error) => String(error).includes('already been acknowledged')));
    handlerErrors.length = 0;
  });

  test('an over-long reply is refused and recorded as a violation', async () => {
    const before = discord.violations.length;
    const exchange = discord.sendCommand({ name: 'huge', timeoutMs: 300 });
    await assert.rejects(exchange, /no answer/);
    assert.equal(discord.violations.length, before + 1);
    assert.match(discord.violations.at(-1)!.problems[0], /content 2001 > 2000/);
  });

  test('after a dropped connection the client resumes and missed dispatches arrive', async () => {
    discord.dropConnection(4000);
    const missed = discord.sendCommand({
      name: 'echo',
      options: [{ name: 'text', type: 3, value: 'sent while away' }],
    });
    await discord.waitForResume();
    assert.equal(
      (await missed).message?.content,
      `sent while away (guild ${discord.defaultGuildId})`,
    );

    const afterResume = await discord.sendCommand({
      name: 'echo',
      options: [{ name: 'text', type: 3, value: 'after' }],
    });
    assert.match(afterResume.message!.content, /^after/);
    assert.equal(discord.identifyCount, 1, 'resumed, not re-identified');
  });

  test('an invalidated session makes the client identify again, and it still answers', async () => {
    const identified = discord.identifyCount;
    discord.dropConnection(4000, { invalidateSession: true });
    await discord.waitForIdentify(identified + 1, 15_000);
    const exchange = await discord.sendCommand({
      name: 'echo',
      options: [{ name: 'text', type: 3, value: 'new session' }],
    });
    assert.match(exchange.message!.content, /^new session/);
  });

  test('every recorded request hit a known route', () => {
    assert.deepEqual(discord.unknownRoutes, []);
  });
});

describe('fake Discord refusals', () => {
  test('REST refuses a wrong token, so login fails', async () => {
    const discord = await FakeDiscord.start({ token, applicationId });
    const client = newClient(discord);
    try {
      await assert.rejects(client.login('wrong-token'));
      assert.equal(discord.identifyCount, 0);
      assert.equal(discord.requests.at(-1)?.status, 401);
    } finally {
      await client.destroy();
      await discord.stop();
    }
  });

  test('the gateway closes an IDENTIFY with a wrong token with 4004', async () => {
    const discord = await FakeDiscord.start({ token, applicationId });
    const socket = new WebSocket(discord.gatewayUrl);
    try {
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      socket.on('message', (raw) => {
        const message = JSON.parse(raw.toString());
        if (message.op === 10)
          socket.send(JSON.stringify({ op: 2, d: { token: 'nope', intents: 0 } }));
      });
      assert.equal(await closed, 4004);
      assert.equal(discord.identifyCount, 0);
    } finally {
      socket.terminate();
      await discord.stop();
    }
  });

  test('stop() leaves the port closed', async () => {
    const discord = await FakeDiscord.start({ token, applicationId });
    const url = `${discord.restUrl}/v10/gateway`;
    await discord.stop();
    await assert.rejects(fetch(url));
  });
});

describe('messageLimitViolations', () => {
  test('accepts a message at the limits and rejects one past them', () => {
    const field = { name: 'n'.repeat(256), value: 'v'.repeat(1024) };
    const atLimits = {
      content: 'c'.repeat(2000),
      embeds: [{ title: 't'.repeat(256), fields: [field] }],
    };
    assert.deepEqual(messageLimitViolations(atLimits), []);

    const fields = Array.from({ length: 26 }, () => ({ name: 'a', value: 'b' }));
    const past = {
      content: 'c'.repeat(2001),
      embeds: Array.from({ length: 11 }, () => ({ title: 't'.repeat(257), fields })),
    };
    const problems = messageLimitViolations(past);
    assert.ok(problems.some((problem) => problem.startsWith('content 2001')));
    assert.ok(problems.some((problem) => problem.startsWith('11 embeds')));
    assert.ok(problems.some((problem) => problem.includes('title 257')));
    assert.ok(problems.some((problem) => problem.includes('26 fields')));
  });

  test('counts the 6,000-character total across embeds', () => {
    const embed = { description: 'd'.repeat(4000) };
    assert.deepEqual(messageLimitViolations({ embeds: [embed] }), []);
    assert.match(messageLimitViolations({ embeds: [embed, embed] }).join(), /total 8000 > 6000/);
  });
});
