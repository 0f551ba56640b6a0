/** `deploy-commands` against the Discord stand-in: guild when DISCORD_GUILD_ID is set, else global. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandDefinitions } from '../src/commands/index.ts';
import { parseConfig } from '../src/config.ts';
import { deployCommands } from '../src/deployCommands.ts';
import { FakeDiscord } from './support/fakeDiscord.ts';

const TOKEN = 'deploy-test-token.not-a-real-one';
const APPLICATION_ID = '1300000000000000002';

test('deploy-commands PUTs every definition to the dev guild, or globally without one',
  async () => {
    const discord = await FakeDiscord.start({ token: TOKEN, applicationId: APPLICATION_ID,
      guildIds: ['1400000000000000001'] });
    try {
      const base = { DISCORD_TOKEN: TOKEN, DISCORD_CLIENT_ID: APPLICATION_ID,
        DISCORD_API_URL: discord.restUrl };

      const guild = await deployCommands(parseConfig({ ...base,
        DISCORD_GUILD_ID: '1400000000000000001' }));
      assert.deepEqual(guild, { scope: 'guild', count: 6 });
      const global = await deployCommands(parseConfig(base));
      assert.deepEqual(global, { scope: 'global', count: 6 });

      assert.deepEqual(discord.commandRegistrations.map((registration) => registration.scope),
        ['1400000000000000001', 'global']);
      const names = (discord.commandRegistrations[1]?.body ?? []).map((command) => command.name);
      assert.deepEqual(names, ['similar', 'taste', 'recommend', 'model', 'forget-me', 'help']);
      assert.deepEqual(discord.commandRegistrations[0]?.body.map((command) => command.name),
        commandDefinitions().map((command) => command.name));

      // A wrong token is Discord's 401, surfaced as a rejection.
      await assert.rejects(deployCommands(parseConfig({ ...base, DISCORD_TOKEN: 'wrong.token' })));
    } finally {
      await discord.stop();
    }
  });

test('deploy-commands needs a token and an application id', async () => {
  await assert.rejects(deployCommands(parseConfig({})), /DISCORD_TOKEN and DISCORD_CLIENT_ID/);
});
